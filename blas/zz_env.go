package blas

// This file's init runs last (init functions run in file-name order within
// a package), after every backend registered itself.
func init() { initEnv() }
