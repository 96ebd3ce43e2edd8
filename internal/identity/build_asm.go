//go:build !purego

package identity

const purego = false
