//! What this process made on its targets and has not deleted yet, kept as the exchanges
//! happen, so that quitting at once (a deliberate second interrupt) can first say what it
//! leaves behind.

use std::collections::BTreeSet;
use std::sync::Mutex;

use hyper::Method;

use crate::record::Exchange;

static LEFT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Notes what an exchange made (a 201: the URL written, or the `Location` a POST names) or
/// removed (a DELETE answered 2xx, 404 or 410).
pub(crate) fn note(exchange: &Exchange) {
    let Ok(response) = &exchange.response else {
        return;
    };
    let url = &exchange.request.url;
    // Worked out before the lock, which only a 201 or a DELETE takes: this runs per request.
    let change = match (&exchange.request.method, response.status) {
        (&Method::DELETE, 200..=299 | 404 | 410) => Err(url.as_str()),
        (&Method::POST, 201) => {
            let location = response.header("location");
            let made = location.and_then(|l| url.join(&l).ok());
            Ok(made.map_or_else(|| url.to_string(), |u| u.to_string()))
        }
        (_, 201) => Ok(url.to_string()),
        _ => return,
    };
    let mut left = LEFT.lock().unwrap_or_else(|p| p.into_inner());
    match change {
        Ok(made) => drop(left.insert(made)),
        Err(deleted) => drop(left.remove(deleted)),
    }
}

/// Every URL made and not deleted, in order.
pub fn left() -> Vec<String> {
    let left = LEFT.lock().unwrap_or_else(|p| p.into_inner());
    left.iter().cloned().collect()
}
