package main

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/localipc/localipc"
)

// The service is written by hand, without protoc: a grpc.ServiceDesc whose
// messages are the well-known wrapper types, which grpc's default proto codec
// marshals like any generated message. The equivalent .proto:
//
//	package localipc.example;
//	service Echo {
//	  rpc Echo(google.protobuf.StringValue) returns (google.protobuf.StringValue);
//	  rpc Block(google.protobuf.StringValue) returns (google.protobuf.StringValue);
//	  rpc Chat(stream google.protobuf.StringValue) returns (stream google.protobuf.StringValue);
//	}
const (
	serviceName = "localipc.example.Echo"
	echoMethod  = "/" + serviceName + "/Echo"
	blockMethod = "/" + serviceName + "/Block"
	chatMethod  = "/" + serviceName + "/Chat"
)

// EchoServer is what a server of the service implements.
type EchoServer interface {
	// Echo returns its argument.
	Echo(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	// Block returns only when its context ends, with the status of why: it
	// shows deadlines and cancellations reaching the server.
	Block(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	// Chat sends back every message it receives, until the client closes
	// its side.
	Chat(grpc.BidiStreamingServer[wrapperspb.StringValue, wrapperspb.StringValue]) error
}

var echoServiceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*EchoServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Echo", Handler: unary(echoMethod, EchoServer.Echo)},
		{MethodName: "Block", Handler: unary(blockMethod, EchoServer.Block)},
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Chat",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(EchoServer).Chat(&grpc.GenericServerStream[wrapperspb.StringValue, wrapperspb.StringValue]{ServerStream: stream})
		},
	}},
}

// unary makes the grpc.MethodDesc handler of one unary method, what protoc's
// generated _Echo_Handler functions do.
func unary(fullMethod string, call func(EchoServer, context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		if interceptor == nil {
			return call(srv.(EchoServer), ctx, in)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}
		return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
			return call(srv.(EchoServer), ctx, req.(*wrapperspb.StringValue))
		})
	}
}

// echoService implements EchoServer.
type echoService struct {
	// blocked, if not nil, is told when a Block call has started, with the
	// deadline of its context (zero if none), and blockEnded how it ended on
	// the server's side (the context's error).
	blocked    chan<- time.Time
	blockEnded chan<- error
}

func (echoService) Echo(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String(in.GetValue()), nil
}

func (e echoService) Block(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if e.blocked != nil {
		deadline, _ := ctx.Deadline()
		e.blocked <- deadline
	}
	<-ctx.Done()
	if e.blockEnded != nil {
		e.blockEnded <- ctx.Err()
	}
	return nil, status.FromContextError(ctx.Err()).Err()
}

func (echoService) Chat(stream grpc.BidiStreamingServer[wrapperspb.StringValue, wrapperspb.StringValue]) error {
	for {
		in, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(wrapperspb.String(in.GetValue())); err != nil {
			return err
		}
	}
}

// echoClient is the client side of the service, as protoc would generate it.
type echoClient struct{ cc grpc.ClientConnInterface }

func (c echoClient) Echo(ctx context.Context, in *wrapperspb.StringValue, opts ...grpc.CallOption) (*wrapperspb.StringValue, error) {
	out := new(wrapperspb.StringValue)
	if err := c.cc.Invoke(ctx, echoMethod, in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c echoClient) Block(ctx context.Context, in *wrapperspb.StringValue, opts ...grpc.CallOption) (*wrapperspb.StringValue, error) {
	out := new(wrapperspb.StringValue)
	if err := c.cc.Invoke(ctx, blockMethod, in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

func (c echoClient) Chat(ctx context.Context, opts ...grpc.CallOption) (grpc.BidiStreamingClient[wrapperspb.StringValue, wrapperspb.StringValue], error) {
	s, err := c.cc.NewStream(ctx, &echoServiceDesc.Streams[0], chatMethod, opts...)
	if err != nil {
		return nil, err
	}
	return &grpc.GenericClientStream[wrapperspb.StringValue, wrapperspb.StringValue]{ClientStream: s}, nil
}

// listen serves svc over gRPC on the localipc name: grpc.Server.Serve takes
// the *localipc.Server as it is, a net.Listener. served gets what Serve
// returned once it has.
func listen(name string, svc EchoServer, opts ...grpc.ServerOption) (gs *grpc.Server, lis *localipc.Server, served <-chan error, err error) {
	lis, err = localipc.Listen(name, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	gs = grpc.NewServer(opts...)
	gs.RegisterService(&echoServiceDesc, svc)
	done := make(chan error, 1)
	go func() { done <- gs.Serve(lis) }()
	return gs, lis, done, nil
}

// dial makes a gRPC client of the server on the localipc name. The target is
// only a label ("passthrough" hands it to the dialer unresolved); the dialer
// reaches the server through localipc.DialContext, bounded by grpc's
// context, and the session is the connection's net.Conn.
func dial(name string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+name,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return localipc.DialContext(ctx, name, 0)
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
}
