package address

import (
	"strings"
	"testing"
)

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
		// IP literals: never a Google account.
		"x@127.0.0.1",
		"x@[127.0.0.1]",
		"x@[IPv6:2001:db8::1]",
		"x@example.123",
	}
	for _, s := range invalid {
		if err := Validate(s); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", s)
		}
	}
}

func TestKey(t *testing.T) {
	same := []string{
		"alice@example.com",
		"  Alice@Example.COM\t",
		"\u00a0alice@example.com",
		"alice@example.com\u00a0",
		"\u2003ALICE@example.com\r\n",
	}
	for _, s := range same {
		got, err := Key(s)
		if err != nil || got != "alice@example.com" {
			t.Errorf("Key(%q) = %q, %v; want alice@example.com", s, got, err)
		}
		if IsKey(s) != (s == "alice@example.com") {
			t.Errorf("IsKey(%q) = %v", s, IsKey(s))
		}
	}
	// Validated before it is case-folded: the Kelvin sign lower-cases to an
	// ASCII k, and must not become the address of someone else.
	for _, s := range []string{"\u212aate@example.com", "kate@exa\u212ample.com", "\u0130an@example.com", "stra\u00dfe@example.com"} {
		if k, err := Key(s); err == nil {
			t.Errorf("Key(%q) = %q, want a refusal", s, k)
		}
	}
	for _, s := range []string{"a\u00a0b@example.com", "ab@exa mple.com"} {
		if k, err := Key(s); err == nil {
			t.Errorf("Key(%q) = %q, want a refusal for inner white space", s, k)
		}
	}
}

func TestKeyIdempotent(t *testing.T) {
	for _, s := range []string{"A.B+c@Sub.Example.ORG", "=1+2@example.org"} {
		k, err := Key(s)
		if err != nil {
			t.Fatal(err)
		}
		if k2, err := Key(k); err != nil || k2 != k || !IsKey(k) {
			t.Errorf("Key(Key(%q)) = %q, %v", s, k2, err)
		}
	}
}

func TestValidateIPLiteral(t *testing.T) {
	for _, s := range []string{"x@127.0.0.1", "x@[127.0.0.1]", "x@[IPv6:2001:db8::1]"} {
		err := Validate(s)
		if err == nil || !strings.Contains(err.Error(), "IP address") {
			t.Errorf("Validate(%q) = %v, want an IP address refusal", s, err)
		}
	}
	// Digits are fine anywhere but in the top-level label.
	if err := Validate("x@1.2.3.example"); err != nil {
		t.Errorf("Validate(x@1.2.3.example) = %v", err)
	}
}
