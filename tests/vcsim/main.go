// Command vcsim starts govmomi's vCenter simulator on loopback for the assess tests.
// It prints the SDK URL on one line, then serves until stdin closes or it is killed.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "address to listen on")
	vms := flag.Int("vm", 2, "VMs per resource pool")
	hosts := flag.Int("host", 3, "hosts per cluster")
	clusters := flag.Int("cluster", 1, "clusters per datacenter")
	certFile := flag.String("cert", "", "PEM certificate to serve (default: govmomi's test cert)")
	keyFile := flag.String("key", "", "PEM private key of -cert")
	flag.Parse()

	model := simulator.VPX()
	model.Machine, model.ClusterHost, model.Cluster = *vms, *hosts, *clusters
	if err := model.Create(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	model.Service.Listen = &url.URL{Host: *listen}
	model.Service.TLS = new(tls.Config)
	if *certFile != "" {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		model.Service.TLS.Certificates = []tls.Certificate{pair}
	}
	model.Service.RegisterEndpoints = true
	server := model.Service.NewServer()
	fmt.Println(server.URL.String())
	io.Copy(io.Discard, os.Stdin) // serve until the parent closes our stdin
	server.Close()
	model.Remove()
}
