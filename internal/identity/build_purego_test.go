//go:build purego

package identity_test

const purego = true
