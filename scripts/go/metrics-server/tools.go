//go:build tools

// The command this module builds; the build tag keeps the import out of any binary.
package tools

import (
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
