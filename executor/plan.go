package executor

import (
	"errors"
	"io"

	"github.com/invitectl/invitectl/planner"
)

// PlanItems streams the items of an open plan.
func PlanItems(r *planner.FileReader) Items {
	return func(fn func(planner.Item) error) error {
		for {
			it, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := fn(it); err != nil {
				return err
			}
		}
	}
}
