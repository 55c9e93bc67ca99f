package executor

import (
	"github.com/invitectl/invitectl/planner"
)

// PlanItems streams the items of an open plan.
func PlanItems(r *planner.FileReader) Items { return r.Each }
