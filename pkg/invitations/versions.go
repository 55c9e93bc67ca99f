package invitations

import (
	"context"

	v1 "google.golang.org/api/cloudidentity/v1"
	v1beta1 "google.golang.org/api/cloudidentity/v1beta1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// The two versions differ only in their generated types; each method is a
// single call converted to the shared wire types. Invitations and pages,
// which a listing returns by the million, are copied field by field (see
// wireFields); operations, rare and with nested errors, go through convert.

type v1Backend struct {
	s *v1.CustomersUserinvitationsService
}

func newV1(ctx context.Context, opts []option.ClientOption) (backend, error) {
	svc, err := v1.NewService(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return v1Backend{svc.Customers.Userinvitations}, nil
}

func (b v1Backend) isInvitable(ctx context.Context, name string) (bool, error) {
	r, err := b.s.IsInvitableUser(name).Context(ctx).Do()
	return err == nil && r.IsInvitableUser, err
}

func (b v1Backend) get(ctx context.Context, name string) (wireInvitation, error) {
	r, err := b.s.Get(name).Context(ctx).Do()
	if err != nil || r == nil {
		return wireInvitation{}, err
	}
	return wireFields(r.Name, r.State, r.UpdateTime, r.MailsSentCount), nil
}

func (b v1Backend) list(ctx context.Context, q listQuery) (wirePage, error) {
	r, err := doList(b.s.List(q.parent).PageSize(q.pageSize).Context(ctx), q)
	if err != nil || r == nil {
		return wirePage{}, err
	}
	return pageOf(r.NextPageToken, r.UserInvitations, func(u *v1.UserInvitation) wireInvitation {
		return wireFields(u.Name, u.State, u.UpdateTime, u.MailsSentCount)
	}), nil
}

func (b v1Backend) send(ctx context.Context, name string) (wireOperation, error) {
	return convert[wireOperation](b.s.Send(name, &v1.SendUserInvitationRequest{}).Context(ctx).Do())
}

func (b v1Backend) cancel(ctx context.Context, name string) (wireOperation, error) {
	return convert[wireOperation](b.s.Cancel(name, &v1.CancelUserInvitationRequest{}).Context(ctx).Do())
}

type v1beta1Backend struct {
	s *v1beta1.CustomersUserinvitationsService
}

func newV1beta1(ctx context.Context, opts []option.ClientOption) (backend, error) {
	svc, err := v1beta1.NewService(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return v1beta1Backend{svc.Customers.Userinvitations}, nil
}

func (b v1beta1Backend) isInvitable(ctx context.Context, name string) (bool, error) {
	r, err := b.s.IsInvitableUser(name).Context(ctx).Do()
	return err == nil && r.IsInvitableUser, err
}

func (b v1beta1Backend) get(ctx context.Context, name string) (wireInvitation, error) {
	r, err := b.s.Get(name).Context(ctx).Do()
	if err != nil || r == nil {
		return wireInvitation{}, err
	}
	return wireFields(r.Name, r.State, r.UpdateTime, r.MailsSentCount), nil
}

func (b v1beta1Backend) list(ctx context.Context, q listQuery) (wirePage, error) {
	r, err := doList(b.s.List(q.parent).PageSize(q.pageSize).Context(ctx), q)
	if err != nil || r == nil {
		return wirePage{}, err
	}
	return pageOf(r.NextPageToken, r.UserInvitations, func(u *v1beta1.UserInvitation) wireInvitation {
		return wireFields(u.Name, u.State, u.UpdateTime, u.MailsSentCount)
	}), nil
}

func (b v1beta1Backend) send(ctx context.Context, name string) (wireOperation, error) {
	return convert[wireOperation](b.s.Send(name, &v1beta1.SendUserInvitationRequest{}).Context(ctx).Do())
}

func (b v1beta1Backend) cancel(ctx context.Context, name string) (wireOperation, error) {
	return convert[wireOperation](b.s.Cancel(name, &v1beta1.CancelUserInvitationRequest{}).Context(ctx).Do())
}

// listCall is a version's generated list call: its setters return itself.
type listCall[C any, R any] interface {
	Filter(string) C
	OrderBy(string) C
	PageToken(string) C
	Do(...googleapi.CallOption) (R, error)
}

// doList sets the query's optional parameters on c and makes the call.
func doList[C listCall[C, R], R any](c C, q listQuery) (R, error) {
	if q.filter != "" {
		c = c.Filter(q.filter)
	}
	if q.orderBy != "" {
		c = c.OrderBy(q.orderBy)
	}
	if q.pageToken != "" {
		c = c.PageToken(q.pageToken)
	}
	return c.Do()
}

// pageOf converts a version's page, invitation by invitation (see
// wireFields: a listing returns them by the million).
func pageOf[U any](next string, us []*U, fields func(*U) wireInvitation) wirePage {
	p := wirePage{Next: next}
	if us != nil {
		p.Items = make([]wireInvitation, len(us))
	}
	for i, u := range us {
		if u != nil {
			p.Items[i] = fields(u)
		}
	}
	return p
}
