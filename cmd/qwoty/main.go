// Command qwoty is the Qwoty companion server and its operator tools:
//
//	qwoty serve                 run the HTTP server (and, in development, the playground)
//	qwoty migrate               apply migrations and exit
//	qwoty connection add ...    create or re-enable a connection without OAuth
//	qwoty sign ...              sign a v1 callout exactly as the Apex does
//	qwoty doctor                check configuration and database
//	qwoty version               print the version
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: qwoty <command> [flags]

commands:
  serve                      run the HTTP server and the job workers
  migrate                    apply migrations and exit
  connection add salesforce  --org-id ID --my-domain NAME [--sandbox] [--workspace NAME]
  connection add hubspot     --portal-id ID [--workspace NAME]
  connection add pipedrive   --company-id ID --api-domain URL [--workspace NAME]
  sign                       --org-id ID --secret S [--body FILE] [--url URL]
  doctor                     check the configuration and the database
  version                    print the version

Configuration comes from the environment: see README.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code: 0 done, 1 failed,
// 2 bad usage or configuration.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "migrate":
		return cmdMigrate(args[1:], stdout, stderr)
	case "connection":
		return cmdConnection(args[1:], stdout, stderr)
	case "sign":
		return cmdSign(args[1:], stdout, stderr)
	case "doctor":
		return cmdDoctor(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "qwoty: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
