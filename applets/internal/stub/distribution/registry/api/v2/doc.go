// Package v2 is a trimmed copy of github.com/docker/distribution's: only the
// error codes (errors.go, verbatim from v2.8.3), none of the route
// descriptors whose regular expressions are compiled at init. See
// applets/internal/stub/README.md.
package v2
