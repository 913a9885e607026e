// Command etcd starts an etcd member; it exists so the pinned etcd server
// module can be built without the etcd repository's own main package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
