package address

import "testing"

func TestValidate(t *testing.T) {
	valid := []string{
		"alice@example.com",
		"first.last@sub.example.co.uk",
		"a+tag@example.org",
		"=1+2@example.org",
		"o'neil@example.ie",
		"x_y-z@ex-ample.com",
	}
	for _, s := range valid {
		if err := Validate(s); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"",
		"alice",
		"alice@",
		"@example.com",
		"a@b@example.com",
		"alice@localhost",
		"alice @example.com",
		"Alice <alice@example.com>",
		".alice@example.com",
		"alice.@example.com",
		"al..ice@example.com",
		"alice@example..com",
		"alice@-example.com",
		"alice@exa_mple.com",
		"a/b@example.com",
		"a?b@example.com",
		"a%b@example.com",
		"a#b@example.com",
		"\"quoted\"@example.com",
	}
	for _, s := range invalid {
		if err := Validate(s); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", s)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := Normalize("  Alice@Example.COM\t"); got != "alice@example.com" {
		t.Fatalf("Normalize = %q", got)
	}
}
