// Command grpc runs a gRPC server and its client over localipc in one
// process: a unary call and a bidirectional stream over an IPRT-named
// endpoint (/tmp/.iprt-localipc-<name> on Linux). It is a module of its own
// so that grpc never enters the library's go.mod.
//
//	cd examples/grpc && go run . -name mygrpc
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func main() {
	name := flag.String("name", fmt.Sprintf("grpc-example-%d", os.Getpid()), "IPRT name to serve on")
	flag.Parse()
	if err := run(*name); err != nil {
		fmt.Fprintln(os.Stderr, "grpc:", err)
		os.Exit(1)
	}
}

func run(name string) error {
	gs, lis, served, err := listen(name, echoService{})
	if err != nil {
		return err
	}
	defer func() { gs.GracefulStop(); <-served }()
	fmt.Println("serving gRPC on", lis.Addr())

	cc, err := dial(name)
	if err != nil {
		return err
	}
	defer cc.Close()
	c := echoClient{cc}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	out, err := c.Echo(ctx, wrapperspb.String("hello"))
	if err != nil {
		return err
	}
	fmt.Println("Echo:", out.GetValue())

	stream, err := c.Chat(ctx)
	if err != nil {
		return err
	}
	for _, word := range []string{"one", "two", "three"} {
		if err := stream.Send(wrapperspb.String(word)); err != nil {
			return err
		}
		in, err := stream.Recv()
		if err != nil {
			return err
		}
		fmt.Println("Chat:", in.GetValue())
	}
	return stream.CloseSend()
}
