// A hand-written unary gRPC service with raw Buffer messages, shared by the
// HTTP/2 tests: the proxy sees gRPC framing, not protobuf, so no .proto is
// needed on either side.
import * as grpc from '@grpc/grpc-js';

export const ECHO_SERVICE: grpc.ServiceDefinition = {
  echo: {
    path: '/kdlp.test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

export const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');

/** One Echo call with a 10 s deadline: its reply, or the status it failed with. */
export function callEcho(client: grpc.Client, message: Buffer, options: grpc.CallOptions = {}): Promise<{ reply?: Buffer; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    (client as unknown as Record<string, (m: Buffer, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void>)
      .echo!(message, { deadline: Date.now() + 10_000, ...options }, (error, reply) => resolve(error ? { error } : { reply }));
  });
}
