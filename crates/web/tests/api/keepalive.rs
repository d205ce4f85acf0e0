//! One keep-alive connection carries request after request, whatever the
//! first answer was: a client (a payment provider, a connector) that sent
//! a body to an endpoint that refused or ignored it must not find the
//! connection closed under its next request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::*;

/// Reads one HTTP/1.1 response with a Content-Length body; `None` when the
/// server closed the connection instead.
fn read_response(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return None,
            Ok(_) => head.push(byte[0]),
        }
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(head)
}

#[test]
fn a_connection_survives_a_post_whose_body_the_endpoint_did_not_need() {
    let server = Server::start();
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = "{\"note\":\"".to_owned() + &"x".repeat(64 * 1024) + "\"}";
    // Refused before the body matters: no credentials.
    let first = format!(
        "POST /api/v1/appeals/{AT_AKIMAT_A}/accept HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(first.as_bytes()).unwrap();
    let answer = read_response(&mut stream).expect("an answer to the first request");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let second = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stream.write_all(second.as_bytes()).unwrap();
    let answer = read_response(&mut stream).expect("the connection is still open for the next request");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
