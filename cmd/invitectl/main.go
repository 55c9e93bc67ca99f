// Command invitectl runs bulk invitation campaigns against the Cloud Identity
// User Invitation API.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], newSystemIO()))
}
