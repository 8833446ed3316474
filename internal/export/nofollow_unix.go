//go:build unix

package export

import "syscall"

// noFollow makes opening a symlink fail, so a link planted in the output
// directory cannot redirect bytes elsewhere.
const noFollow = syscall.O_NOFOLLOW
