//! Ctrl-C, listened for from the moment the listener is made.

/// A future that resolves on Ctrl-C, listening from the moment it is made.
#[cfg(unix)]
pub fn ctrl_c() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        interrupt.recv().await;
    })
}

/// A future that resolves on Ctrl-C.
#[cfg(not(unix))]
pub fn ctrl_c() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
