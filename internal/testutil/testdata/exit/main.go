// Command exit writes its first argument to stdout and its second to
// stderr, then exits with the code its third argument gives.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Print(os.Args[1])
	fmt.Fprint(os.Stderr, os.Args[2])
	code, _ := strconv.Atoi(os.Args[3])
	os.Exit(code)
}
