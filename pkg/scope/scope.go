// Package scope names the OAuth scopes of the Google APIs invitectl uses,
// once for the whole module: what the credentials ask for (pkg/auth), what
// the emulator checks (pkg/emulator), and what the commands need.
package scope

// The scopes. The generated API packages have no constants for the Cloud
// Identity user-invitation ones.
const (
	// Invitations sends and cancels invitations (and reads them).
	Invitations = "https://www.googleapis.com/auth/cloud-identity.userinvitations"
	// InvitationsReadOnly only reads: what plan, list, get, check and
	// status ask for.
	InvitationsReadOnly = "https://www.googleapis.com/auth/cloud-identity.userinvitations.readonly"
	// SheetsReadOnly reads a campaign from a Google Sheet.
	SheetsReadOnly = "https://www.googleapis.com/auth/spreadsheets.readonly"
	// Spreadsheets reads and writes every spreadsheet of the user.
	Spreadsheets = "https://www.googleapis.com/auth/spreadsheets"
	// DriveFile creates and writes the spreadsheets report and status
	// --to-sheet make, and only those.
	DriveFile = "https://www.googleapis.com/auth/drive.file"
	// Drive and DriveReadOnly reach every file of the user's Drive.
	Drive         = "https://www.googleapis.com/auth/drive"
	DriveReadOnly = "https://www.googleapis.com/auth/drive.readonly"
	// CloudPlatform is what Application Default Credentials and
	// impersonation need to act as a service account.
	CloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
)
