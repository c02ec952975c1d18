//go:build !unix

package repo

import "errors"

// Lock is an exclusive claim on one piece of work. Outside Unix it claims
// nothing: two processes on one results tree may then both do the work.
type Lock struct{}

// ErrLocked is wrapped by TryLock's error when another process holds the
// claim.
var ErrLocked = errors.New("held by another process")

// TryLock claims path; outside Unix it always succeeds.
func TryLock(path string) (*Lock, error) { return &Lock{}, nil }

// Unlock releases the claim.
func (l *Lock) Unlock() {}
