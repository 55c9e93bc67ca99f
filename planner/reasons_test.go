package planner

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/invitectl/invitectl/pkg/source"
)

// fromSource are the reasons the planner takes from the reader.
var fromSource = map[string]string{
	"ReasonInvalidEmail": source.ReasonInvalidEmail, "ReasonInvalidRow": source.ReasonInvalidRow,
	"ReasonDuplicate": source.ReasonDuplicate, "ReasonNoAction": source.ReasonNoAction,
}

// reasonCodes are the values of the Reason* constants of this package.
func reasonCodes(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "plan.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if strings.HasPrefix(name.Name, "Reason") && i < len(vs.Values) {
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					code, _ := strconv.Unquote(v.Value)
					codes[code] = name.Name
				case *ast.SelectorExpr: // the reader's own, as source.ReasonX
					codes[fromSource[v.Sel.Name]] = name.Name
				}
			}
		}
		return true
	})
	if len(codes) < 20 {
		t.Fatalf("found only %d reason constants", len(codes))
	}
	return codes
}

// TestEveryReasonExplained: every reason code has one line, short enough
// for a legend, and nothing else is explained.
func TestEveryReasonExplained(t *testing.T) {
	codes := reasonCodes(t)
	for code, name := range codes {
		if Explain(code) == "" {
			t.Errorf("%s (%q) has no explanation in Reasons", name, code)
		}
	}
	seen := map[string]bool{}
	for _, r := range Reasons {
		if _, ok := codes[r.Code]; !ok {
			t.Errorf("Reasons explains %q, which is no reason constant", r.Code)
		}
		if seen[r.Code] {
			t.Errorf("%q is explained twice", r.Code)
		}
		seen[r.Code] = true
		if len(r.Text) > 76 {
			t.Errorf("%q: explanation of %d characters; keep it to one short line", r.Code, len(r.Text))
		}
	}
}

// TestReadmeTableMirrorsReasons: the README's table of reason codes says
// what Reasons says, code for code.
func TestReadmeTableMirrorsReasons(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, r := range Reasons {
		row := "| `" + r.Code + "` | " + r.Actions + " | " + r.Text + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README has no row\n%s", row)
		}
	}
}
