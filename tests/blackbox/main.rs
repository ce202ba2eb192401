//! Black-box tests of the built binary: real sockets, real descriptors, real OpenSSH.

mod support;

mod bad_input;
mod cli;
mod client_writes_first;
mod descriptors;
mod fake_machined;
mod faults;
mod full_stdout;
mod hostile_peers;
mod install;
mod libssh;
mod machine_ssh_address;
mod machine_target;
mod mux_front;
mod openssh;
mod openssh_relay;
mod paramiko;
mod relay;
mod serve;
mod signals;
mod small_stack;
mod stdout_cases;
mod unix_target;
mod vsock_mux;
mod vsock_target;
mod wait_timeout;
