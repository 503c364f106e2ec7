//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir makes sure one serving process works a SQLite data
// directory: its job workers may then take over what a dead predecessor
// left mid-attempt at once (see publish.Config.SoleWorkerSince). The lock
// is the kernel's, so a SIGKILLed holder releases it.
func lockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "serve.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another vernetzen serves the data directory %s (lock %s): %w", dir, path, err)
	}
	return func() { f.Close() }, nil
}

// errNoLockSupport is what lockDataDir answers where there is no lock;
// never on unix.
var errNoLockSupport = fmt.Errorf("no data directory lock on this system")
