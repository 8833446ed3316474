//go:build !unix

package export

const noFollow = 0
