// A hand-written unary gRPC service with raw Buffer messages, shared by the
// HTTP/2 tests: the proxy sees gRPC framing, not protobuf, so no .proto is
// needed on either side.
import type { Test } from 'tap';
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

/** An Echo server on 127.0.0.1 (stopped at the test's end); `handled` lists the messages its handler ran for. */
export async function startEchoServer(t: Test, creds: grpc.ServerCredentials): Promise<{ port: number; handled: string[] }> {
  const handled: string[] = [];
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      handled.push(call.request.toString());
      callback(null, Buffer.from(`echo: ${call.request.length} bytes`));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return { port, handled };
}
