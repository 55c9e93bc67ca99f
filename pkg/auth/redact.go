package auth

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// Redact wraps a log handler so that no credential reaches the log: values
// of attributes whose names say they hold one are replaced, and so is any
// text that looks like a bearer token, a JWT or a PEM private key.
func Redact(h slog.Handler) slog.Handler { return redactor{h} }

type redactor struct{ h slog.Handler }

var secretKeys = []string{"authorization", "token", "assertion", "private_key", "privatekey", "secret", "password", "signedjwt"}

var secretText = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----|ya29\.[A-Za-z0-9._-]+`)

// secretField is a credential named in form, JSON or header text, such as an
// OAuth error body that echoes the request ("assertion=…",
// "\"refresh_token\": \"…\""): the value is replaced whatever its shape,
// even cut short where a JWT pattern would no longer match.
var secretField = regexp.MustCompile(`(?i)\b(assertion|client_secret|refresh_token|access_token|id_token|private_key|password|code_verifier|signed_?jwt)(\\?"?\s*[=:]\s*\\?"?)([^\s"'&,;}\\]+)`)

// Scrub replaces credential-looking text in s: bearer tokens, JWTs (a signed
// assertion included), PEM private keys, Google access tokens, and the
// values of fields named like credentials. Log records and every error
// message the CLI prints go through it.
func Scrub(s string) string {
	s = secretField.ReplaceAllString(s, "${1}${2}REDACTED")
	return secretText.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(strings.ToLower(m), "bearer") {
			return "Bearer REDACTED"
		}
		return "REDACTED"
	})
}

func (r redactor) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r redactor) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, Scrub(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactor) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = scrubAttr(a)
	}
	return redactor{r.h.WithAttrs(clean)}
}

func (r redactor) WithGroup(name string) slog.Handler { return redactor{r.h.WithGroup(name)} }

func scrubAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	key := strings.ToLower(a.Key)
	for _, s := range secretKeys {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "REDACTED")
		}
	}
	switch v.Kind() {
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = scrubAttr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindAny:
		return slog.String(a.Key, Scrub(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
