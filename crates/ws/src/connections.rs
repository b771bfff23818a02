//! How many WebSocket connections each user holds, so that one user cannot take the
//! server's sockets, memory and fan-out work for themselves: each connection costs a
//! task pair, buffers and a queue of up to a megabyte. The cap is by tier; an upgrade
//! beyond it is refused with 429 `too_many_connections` before anything is allocated.
//!
//! A connection holds a [`ConnectionSlot`] from before its upgrade is answered until
//! its session ends, however it ends.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// Open connections per user.
#[derive(Debug, Default)]
pub struct Connections {
    per_user: Mutex<HashMap<String, usize>>,
}

/// One user's claim on one connection; dropping it gives the connection back.
#[derive(Debug)]
pub struct ConnectionSlot {
    connections: Arc<Connections>,
    user: String,
}

impl Connections {
    /// Claims a connection for `user` if they hold fewer than `cap`; otherwise says how
    /// many they hold.
    pub fn claim(self: &Arc<Self>, user: &str, cap: usize) -> Result<ConnectionSlot, usize> {
        let mut per_user = self.per_user.lock();
        let held = per_user.get(user).copied().unwrap_or(0);
        if held >= cap {
            return Err(held);
        }
        *per_user.entry(user.to_string()).or_insert(0) += 1;
        Ok(ConnectionSlot {
            connections: Arc::clone(self),
            user: user.to_string(),
        })
    }

    /// Connections `user` holds now.
    pub fn held(&self, user: &str) -> usize {
        self.per_user.lock().get(user).copied().unwrap_or(0)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut per_user = self.connections.per_user.lock();
        if let Some(held) = per_user.get_mut(&self.user) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                per_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_up_to_the_cap_and_slots_come_back_on_drop() {
        let connections = Arc::new(Connections::default());
        let first = connections.claim("ann", 2).unwrap();
        let _second = connections.claim("ann", 2).unwrap();
        assert_eq!(connections.claim("ann", 2).unwrap_err(), 2);
        // Someone else is unaffected.
        let _bob = connections.claim("bob", 2).unwrap();
        drop(first);
        assert_eq!(connections.held("ann"), 1);
        let _again = connections.claim("ann", 2).unwrap();
        assert_eq!(connections.held("ann"), 2);
    }

    #[test]
    fn users_with_no_connection_take_no_memory() {
        let connections = Arc::new(Connections::default());
        drop(connections.claim("ann", 1).unwrap());
        assert!(connections.per_user.lock().is_empty());
        // A refused claim leaves nothing behind either.
        assert!(connections.claim("zed", 0).is_err());
        assert_eq!(connections.held("zed"), 0);
    }
}
