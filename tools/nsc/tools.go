//go:build tools
package tools

import _ "github.com/nats-io/nsc/v2"
