package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * Day, true},
		{"36h", 36 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"2d30m", 48*time.Hour + 30*time.Minute, true},
		{"-2d", -2 * Day, true},
		{"+1d", Day, true},
		{" 3d ", 3 * Day, true},
		{"0", 0, true},
		{"0d", 0, true},
		{"20ms", 20 * time.Millisecond, true},
		{"1h30m", 90 * time.Minute, true},
		{"7", 0, false},
		{"d", 0, false},
		{"7days", 0, false},
		{"1.2.3d", 0, false},
		{"7d x", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"9999999999d", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{7 * Day, "7d"},
		{36 * time.Hour, "1d12h"},
		{72 * time.Hour, "3d"},
		{90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"},
		{time.Hour, "1h"},
		{25*time.Hour + 30*time.Minute, "1d1h30m"},
		{20 * time.Millisecond, "20ms"},
		{-Day, "-1d"},
	}
	for _, tt := range tests {
		got := Format(tt.in)
		if got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := Parse(got); err != nil || back != tt.in {
			t.Errorf("Parse(Format(%v)) = %v, %v", tt.in, back, err)
		}
	}
}

func TestValue(t *testing.T) {
	var d time.Duration
	v := NewValue(&d, 3*Day)
	if v.String() != "3d" || d != 3*Day {
		t.Fatalf("default: %q %v", v.String(), d)
	}
	if err := v.Set("7d"); err != nil || d != 7*Day {
		t.Fatalf("Set(7d): %v, %v", err, d)
	}
	if err := v.Set("seven days"); err == nil {
		t.Fatal("Set accepted text that is not a duration")
	}
	if d != 7*Day {
		t.Fatalf("a refused Set changed the value to %v", d)
	}
}
