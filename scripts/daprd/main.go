// Command daprd builds the Dapr sidecar from the upstream Go module at the version pinned in go.mod.
//
// `go install github.com/dapr/dapr/cmd/daprd@version` is refused because dapr's go.mod has replace
// directives; this module requires dapr, repeats those directives, and calls the same entry point.
package main

import "github.com/dapr/dapr/cmd/daprd/app"

func main() {
	app.Run()
}
