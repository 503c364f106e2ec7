//go:build !unix

package main

// lockDataDir is a no-op where flock is not available; the hub then never
// assumes it works the database alone.
func lockDataDir(string) (func(), error) { return nil, errNoLockSupport }

var errNoLockSupport = errorString("no data directory lock on this system")

type errorString string

func (e errorString) Error() string { return string(e) }
