//go:build purego

package identity

const purego = true
