package download

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
)

// The status line's reason phrase is the server's text: errors quote it
// escaped, whether the status is transient (5xx, retried) or not.
func TestStatusTextEscaped(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;PWNED\a"
	for _, code := range []string{"404", "503"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
						return
					}
					c.Write([]byte("HTTP/1.1 " + code + " " + hostile + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				}()
			}
		}()
		opt := fast(1)
		opt.URL = "http://" + ln.Addr().String() + "/cifar-10-python.tar.gz"
		_, err = get(t, context.Background(), t.TempDir(), opt)
		wantErr(t, err, "PWNED")
		if strings.ContainsAny(err.Error(), "\x1b\a") {
			t.Errorf("%s: raw control bytes in %q", code, err)
		}
	}
}
