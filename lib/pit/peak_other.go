//go:build !amd64 || purego

package pit

func fmaVector() (string, int) { return "", 0 }

func fmaLoop(iters int) {}
