//! Strategy storage on every backend: ownership, versions, concurrent edits, M2M appends.

use super::*;
use crate::Store;
use crate::accounts::NewAccount;
use crate::m2m::M2mRow;
use crate::testing::stores;

fn leg(security_id: i64, side: Side) -> NewLeg {
    NewLeg {
        security_id,
        side,
        lots: 2,
        entry_price_paise: 10_105,
        entry_time_ms: 1_700_000_000_000,
    }
}

fn new_strategy<'a>(owner: &'a str, name: &'a str) -> NewStrategy<'a> {
    NewStrategy {
        owner,
        name,
        underlying: "NIFTY",
        account_id: None,
    }
}

#[tokio::test]
async fn crud_is_scoped_to_the_owner() {
    for (store, _dir) in stores().await {
        let s = store.strategies();
        let created = s.create(new_strategy("alice", "straddle")).await.unwrap();
        assert_eq!((created.version, created.status), (1, StrategyStatus::Open));
        let (after, leg_id) = s
            .add_leg("alice", created.id, leg(101, Side::Sell), None)
            .await
            .unwrap();
        assert_eq!(after.version, 2);
        assert_eq!(after.legs.len(), 1);
        assert_eq!(after.legs[0].id, leg_id);
        assert_eq!(after.legs[0].entry_price_paise, 10_105);
        assert_eq!(after.legs[0].side, Side::Sell);

        // Bob sees nothing of Alice's, and cannot change it.
        assert_eq!(s.get("bob", created.id).await.unwrap(), None);
        assert!(s.list("bob").await.unwrap().is_empty());
        assert!(matches!(
            s.add_leg("bob", created.id, leg(1, Side::Buy), None).await,
            Err(WriteError::Missing("strategy"))
        ));
        assert!(matches!(
            s.remove_leg("bob", created.id, leg_id, None).await,
            Err(WriteError::Missing("strategy"))
        ));
        assert!(matches!(
            s.delete("bob", created.id, None).await,
            Err(WriteError::Missing("strategy"))
        ));
        assert!(
            store
                .m2m()
                .series("bob", created.id, 0, i64::MAX, 10)
                .await
                .unwrap()
                .is_none()
        );

        let patched = s
            .update(
                "alice",
                created.id,
                &StrategyPatch {
                    name: Some("short straddle".into()),
                    status: Some(StrategyStatus::Closed),
                    ..StrategyPatch::default()
                },
                Some(2),
            )
            .await
            .unwrap();
        assert_eq!(patched.name, "short straddle");
        assert_eq!(patched.version, 3);
        assert!(s.open().await.unwrap().is_empty(), "closed is not open");

        assert!(matches!(
            s.remove_leg("alice", created.id, leg_id + 999, None).await,
            Err(WriteError::Missing("leg"))
        ));
        assert_eq!(
            s.get("alice", created.id).await.unwrap().unwrap().version,
            3,
            "a refused edit leaves the version alone"
        );
        let emptied = s
            .remove_leg("alice", created.id, leg_id, None)
            .await
            .unwrap();
        assert!(emptied.legs.is_empty());
        s.delete("alice", created.id, None).await.unwrap();
        assert_eq!(s.get("alice", created.id).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_stale_version_is_refused() {
    for (store, _dir) in stores().await {
        let s = store.strategies();
        let created = s.create(new_strategy("alice", "a")).await.unwrap();
        s.add_leg("alice", created.id, leg(1, Side::Buy), Some(1))
            .await
            .unwrap();
        let stale = s
            .update(
                "alice",
                created.id,
                &StrategyPatch {
                    name: Some("b".into()),
                    ..StrategyPatch::default()
                },
                Some(1),
            )
            .await;
        assert!(
            matches!(
                stale,
                Err(WriteError::Stale {
                    expected: 1,
                    current: 2
                })
            ),
            "{stale:?}"
        );
        assert!(matches!(
            s.delete("alice", created.id, Some(1)).await,
            Err(WriteError::Stale { .. })
        ));
        assert_eq!(s.get("alice", created.id).await.unwrap().unwrap().name, "a");
    }
}

async fn alices_account(store: &Store) -> crate::accounts::AccountRow {
    store
        .accounts()
        .add(NewAccount {
            owner: "alice",
            name: "main",
            broker: "dhan",
            broker_client_id: "1",
            credentials_sealed: None,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn accounts_group_strategies_and_must_be_the_owners() {
    for (store, _dir) in stores().await {
        let account = alices_account(&store).await;
        let s = store.strategies();
        let mut bobs = new_strategy("bob", "x");
        bobs.account_id = Some(account.id);
        assert!(matches!(
            s.create(bobs).await,
            Err(WriteError::Missing("account"))
        ));
        assert!(s.list("bob").await.unwrap().is_empty(), "rolled back");
        let mut alices = new_strategy("alice", "x");
        alices.account_id = Some(account.id);
        let grouped = s.create(alices).await.unwrap();
        assert_eq!(grouped.account_id, Some(account.id));
        assert!(store.accounts().delete("alice", account.id).await.unwrap());
        let ungrouped = s.get("alice", grouped.id).await.unwrap().unwrap();
        assert_eq!((ungrouped.account_id, ungrouped.version), (None, 2));
    }
}

#[tokio::test]
async fn concurrent_edits_and_m2m_appends_lose_nothing() {
    for (store, _dir) in stores().await {
        let created = store
            .strategies()
            .create(new_strategy("alice", "busy"))
            .await
            .unwrap();
        let id = created.id;
        let mut tasks = Vec::new();
        for i in 0..10_i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let s = store.strategies();
                s.add_leg("alice", id, leg(1_000 + i, Side::Buy), None)
                    .await
                    .unwrap();
                s.update(
                    "alice",
                    id,
                    &StrategyPatch {
                        name: Some(format!("busy {i}")),
                        ..StrategyPatch::default()
                    },
                    None,
                )
                .await
                .unwrap();
                assert!(
                    store
                        .m2m()
                        .append(
                            id,
                            M2mRow {
                                at_ms: 1_000 + i,
                                m2m_paise: i * 100,
                                strategy_version: 1,
                            },
                        )
                        .await
                        .unwrap()
                );
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let s = store.strategies();
        let after = s.get("alice", id).await.unwrap().unwrap();
        assert_eq!(after.legs.len(), 10, "every leg add kept");
        assert_eq!(after.version, 1 + 20, "every edit counted once");
        let points = store
            .m2m()
            .series("alice", id, 0, i64::MAX, 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(points.len(), 10, "every M2M point kept");
        assert!(points.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
    }
}

#[tokio::test]
async fn m2m_series_windows_and_deleted_strategies_take_no_points() {
    for (store, _dir) in stores().await {
        let s = store.strategies();
        let created = s.create(new_strategy("alice", "a")).await.unwrap();
        for at in [100, 200, 300, 400] {
            let point = M2mRow {
                at_ms: at,
                m2m_paise: -at,
                strategy_version: 1,
            };
            assert!(store.m2m().append(created.id, point).await.unwrap());
            assert!(
                !store.m2m().append(created.id, point).await.unwrap(),
                "one point per instant"
            );
        }
        let window = store
            .m2m()
            .series("alice", created.id, 200, 300, 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            window.iter().map(|p| p.m2m_paise).collect::<Vec<_>>(),
            [-200, -300]
        );
        let limited = store
            .m2m()
            .series("alice", created.id, 0, i64::MAX, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(limited.len(), 1);
        s.delete("alice", created.id, None).await.unwrap();
        let late = M2mRow {
            at_ms: 500,
            m2m_paise: 0,
            strategy_version: 1,
        };
        assert!(!store.m2m().append(created.id, late).await.unwrap());
    }
}

#[tokio::test]
async fn a_cycle_of_points_is_appended_at_once_skipping_deleted_strategies() {
    for (store, _dir) in stores().await {
        let s = store.strategies();
        let kept = s.create(new_strategy("alice", "kept")).await.unwrap();
        let gone = s.create(new_strategy("alice", "gone")).await.unwrap();
        s.delete("alice", gone.id, None).await.unwrap();
        let point = |paise| M2mRow {
            at_ms: 1_000,
            m2m_paise: paise,
            strategy_version: 1,
        };
        let appended = store
            .m2m()
            .append_all(&[(kept.id, point(5)), (gone.id, point(6))])
            .await
            .unwrap();
        assert_eq!(appended, [true, false]);
        let series = store
            .m2m()
            .series("alice", kept.id, 0, i64::MAX, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(series, [point(5)]);
    }
}

/// What `open()` shows of each open strategy: enough to see every kind of edit.
type Shown = Vec<(String, Option<i64>, usize)>;

fn shown(open: &[StrategyRow]) -> Shown {
    open.iter()
        .map(|s| (s.name.clone(), s.account_id, s.legs.len()))
        .collect()
}

/// The edits the held-set test makes, in order, each on the "other server".
#[derive(Debug, Clone, Copy)]
enum Edit {
    Create,
    AddLeg,
    Rename,
    DeleteAccount,
    RemoveLeg,
    Close,
    Delete,
}

#[tokio::test]
async fn the_open_set_is_held_until_a_strategy_changes_here_or_on_another_server() {
    for (store, _dir) in stores().await {
        // A second server on the same database: its own pool handle, its own held set.
        let other = Store {
            pool: store.pool.clone(),
            backend: store.backend,
            copy: None,
            open_strategies: Arc::default(),
        };
        let (here, there) = (store.strategies(), other.strategies());
        let account = alices_account(&store).await;
        let mut grouped = new_strategy("alice", "a");
        grouped.account_id = Some(account.id);
        let a = here.create(grouped).await.unwrap();
        let (_, leg_id) = here
            .add_leg("alice", a.id, leg(1, Side::Buy), None)
            .await
            .unwrap();
        let mut previous = here.open().await.unwrap();
        assert_eq!(shown(&previous), [("a".into(), Some(account.id), 1)]);
        assert!(
            Arc::ptr_eq(&previous, &here.open().await.unwrap()),
            "unchanged: served from memory"
        );
        // An M2M point is not an edit.
        let point = M2mRow {
            at_ms: 1,
            m2m_paise: 5,
            strategy_version: a.version,
        };
        assert!(store.m2m().append(a.id, point).await.unwrap());
        assert!(Arc::ptr_eq(&previous, &here.open().await.unwrap()));

        let acc = Some(account.id);
        let steps: [(Edit, Shown); 7] = [
            (
                Edit::Create,
                vec![("a".into(), acc, 1), ("b".into(), None, 0)],
            ),
            (
                Edit::AddLeg,
                vec![("a".into(), acc, 1), ("b".into(), None, 1)],
            ),
            (
                Edit::Rename,
                vec![("a2".into(), acc, 1), ("b".into(), None, 1)],
            ),
            (
                Edit::DeleteAccount,
                vec![("a2".into(), None, 1), ("b".into(), None, 1)],
            ),
            (
                Edit::RemoveLeg,
                vec![("a2".into(), None, 0), ("b".into(), None, 1)],
            ),
            (Edit::Close, vec![("b".into(), None, 1)]),
            (Edit::Delete, vec![]),
        ];
        let rename = StrategyPatch {
            name: Some("a2".into()),
            ..StrategyPatch::default()
        };
        let close = StrategyPatch {
            status: Some(StrategyStatus::Closed),
            ..StrategyPatch::default()
        };
        let mut b = None;
        for (edit, expected) in steps {
            match edit {
                Edit::Create => b = Some(there.create(new_strategy("bob", "b")).await.unwrap().id),
                Edit::AddLeg => {
                    let b = b.unwrap();
                    there
                        .add_leg("bob", b, leg(2, Side::Sell), None)
                        .await
                        .unwrap();
                }
                Edit::Rename => drop(there.update("alice", a.id, &rename, None).await.unwrap()),
                Edit::DeleteAccount => {
                    assert!(other.accounts().delete("alice", account.id).await.unwrap());
                }
                Edit::RemoveLeg => {
                    drop(there.remove_leg("alice", a.id, leg_id, None).await.unwrap());
                }
                Edit::Close => drop(there.update("alice", a.id, &close, None).await.unwrap()),
                Edit::Delete => there.delete("bob", b.unwrap(), None).await.unwrap(),
            }
            let now = here.open().await.unwrap();
            assert!(!Arc::ptr_eq(&previous, &now), "{edit:?}: re-read");
            assert_eq!(shown(&now), expected, "{edit:?}");
            previous = now;
        }
        // A refused edit changes nothing, so there is nothing to re-read.
        assert!(matches!(
            there.update("bob", a.id, &rename, None).await,
            Err(WriteError::Missing("strategy"))
        ));
        assert!(Arc::ptr_eq(&previous, &here.open().await.unwrap()));
    }
}

#[tokio::test]
async fn concurrent_creates_never_pass_the_owners_quota() {
    for (store, _dir) in stores().await {
        // Bob's strategies do not count against Alice's quota.
        store
            .strategies()
            .create_within_quota(new_strategy("bob", "b"), 1)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("s{i}");
                store
                    .strategies()
                    .create_within_quota(new_strategy("alice", &name), 5)
                    .await
            }));
        }
        let (mut created, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(WriteError::Store(StoreError::QuotaExceeded {
                    what: crate::quota::Owned::Strategies,
                    limit: 5,
                })) => refused += 1,
                Err(other) => panic!("{:?}: {other:?}", store.backend()),
            }
        }
        assert_eq!((created, refused), (5, 7), "{:?}", store.backend());
        assert_eq!(store.strategies().list("alice").await.unwrap().len(), 5);
        // Room again after a delete.
        let first = store.strategies().list("alice").await.unwrap()[0].id;
        store
            .strategies()
            .delete("alice", first, None)
            .await
            .unwrap();
        store
            .strategies()
            .create_within_quota(new_strategy("alice", "again"), 5)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn concurrent_leg_adds_stop_at_the_cap_inside_the_transaction() {
    for (store, _dir) in stores().await {
        let created = store
            .strategies()
            .create(new_strategy("alice", "wide"))
            .await
            .unwrap();
        let id = created.id;
        let mut tasks = Vec::new();
        for i in 0..(MAX_LEGS as i64 + 6) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .strategies()
                    .add_leg("alice", id, leg(500 + i, Side::Buy), None)
                    .await
            }));
        }
        let (mut added, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => added += 1,
                Err(WriteError::TooManyLegs) => refused += 1,
                Err(other) => panic!("{:?}: {other:?}", store.backend()),
            }
        }
        assert_eq!((added, refused), (MAX_LEGS, 6), "{:?}", store.backend());
        let after = store.strategies().get("alice", id).await.unwrap().unwrap();
        assert_eq!(after.legs.len(), MAX_LEGS);
        assert_eq!(after.version, 1 + MAX_LEGS as i64, "refusals left no bump");
    }
}
