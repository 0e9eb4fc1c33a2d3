//! The hostile tester's L6: a client that drips one header every few seconds held a connection
//! for 90 s and more. The server now closes it once the headers have taken longer than
//! `HEADER_READ_TIMEOUT`. And a crowd cannot open more connections than the server holds
//! (`MAX_CONNECTIONS`): the next one waits until one closes.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use conoceles_kit::http::serve::{DEFAULT_MAX_CONNECTIONS, HEADER_READ_TIMEOUT, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dripping_headers_is_cut_off() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(serve(
        listener,
        Router::new().route("/", get(|| async { "hola" })),
        DEFAULT_MAX_CONNECTIONS,
        stop.clone(),
    ));

    // A well-behaved request is answered.
    let mut quick = TcpStream::connect(address).await.unwrap();
    quick
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    quick.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A slow one: one header every two seconds, never finishing.
    let mut slow = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let closed_after = loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let still_open = slow.write_all(b"X-Drip: 1\r\n").await.is_ok();
        let mut byte = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_millis(50), slow.read(&mut byte)).await;
        let closed = !still_open
            || matches!(read, Ok(Ok(0)) | Ok(Err(_)))
            || matches!(read, Ok(Ok(n)) if n > 0);
        if closed {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < HEADER_READ_TIMEOUT + Duration::from_secs(10),
            "still open after {:?}",
            started.elapsed()
        );
    };
    assert!(
        closed_after >= HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "{closed_after:?}"
    );
    stop.cancel();
    server.await.unwrap().unwrap();
}

/// Reads from `stream` until the page's text arrives.
async fn answer(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("hola") {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "closed without an answer");
        seen.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn beyond_the_connection_limit_a_client_waits_until_one_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new().route("/", get(|| async { "hola" }));
    let stop = CancellationToken::new();
    tokio::spawn(serve(listener, router, 1, stop.clone()));
    let request = b"GET / HTTP/1.1\r\nhost: prueba\r\n\r\n";

    let mut first = TcpStream::connect(address).await.unwrap();
    first.write_all(request).await.unwrap();
    answer(&mut first).await; // served, and kept alive
    let mut second = TcpStream::connect(address).await.unwrap();
    second.write_all(request).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), answer(&mut second)).await;
    assert!(
        early.is_err(),
        "a second connection was served beyond the limit of one"
    );

    drop(first);
    let late = tokio::time::timeout(Duration::from_secs(5), answer(&mut second))
        .await
        .expect("served once the first connection closed");
    assert!(late.starts_with("HTTP/1.1 200"), "{late}");
    stop.cancel();
}
