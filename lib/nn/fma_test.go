//go:build !(amd64.v3 || arm64 || ppc64 || ppc64le || s390x || riscv64 || loong64)

package nn

// fusedMultiplyAdd says whether the Go compiler may fuse x*y+z here.
const fusedMultiplyAdd = false
