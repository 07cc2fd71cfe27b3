//! An on-disk store for joining the tables of a tabular package: every row
//! goes into a scratch SQLite file keyed by the id it hangs from, so a
//! package far larger than memory can be put back together record by record.

use std::path::Path;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{Map, Value};

diesel::table! {
    staged (seq) {
        seq -> BigInt,
        tbl -> Text,
        key -> Text,
        body -> Text,
    }
}

#[derive(Insertable)]
#[diesel(table_name = staged)]
struct NewRow {
    seq: i64,
    tbl: &'static str,
    key: String,
    body: String,
}

/// Rows written per INSERT statement.
const FLUSH_ROWS: usize = 500;

pub struct Staging {
    conn: SqliteConnection,
    pending: Vec<NewRow>,
    next_seq: i64,
}

pub type Row = Map<String, Value>;

impl Staging {
    /// A fresh store in `file` (which should not exist yet).
    pub fn create(file: &Path) -> anyhow::Result<Staging> {
        let mut conn = SqliteConnection::establish(&file.to_string_lossy())
            .with_context(|| format!("creating {}", file.display()))?;
        // Scratch data: nothing to protect if the process dies.
        conn.batch_execute(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE staged (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL);",
        )?;
        Ok(Staging {
            conn,
            pending: Vec::new(),
            next_seq: 0,
        })
    }

    /// Stages a row of `table` under `key`.
    pub fn add(&mut self, table: &'static str, key: &str, row: &Row) -> anyhow::Result<()> {
        self.pending.push(NewRow {
            seq: self.next_seq,
            tbl: table,
            key: key.to_string(),
            body: serde_json::to_string(row)?,
        });
        self.next_seq += 1;
        if self.pending.len() >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if !self.pending.is_empty() {
            diesel::insert_into(staged::table)
                .values(&self.pending)
                .execute(&mut self.conn)
                .context("staging package rows")?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes what is pending and indexes the keys: call once, after the
    /// last `add` and before any lookup.
    pub fn seal(&mut self) -> anyhow::Result<()> {
        self.flush()?;
        self.conn
            .batch_execute("CREATE INDEX staged_by_key ON staged (tbl, key, seq);")
            .context("indexing staged rows")?;
        Ok(())
    }

    /// Rows of `table` under `key`, in file order (including rows added
    /// since `seal`).
    pub fn rows(&mut self, table: &str, key: &str) -> anyhow::Result<Vec<Row>> {
        self.flush()?;
        let bodies: Vec<String> = staged::table
            .filter(staged::tbl.eq(table).and(staged::key.eq(key)))
            .order(staged::seq)
            .select(staged::body)
            .load(&mut self.conn)?;
        Ok(bodies
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect())
    }

    /// The first row of `table` under `key`.
    pub fn first(&mut self, table: &str, key: &str) -> anyhow::Result<Option<Row>> {
        Ok(self.rows(table, key)?.into_iter().next())
    }

    /// Up to `limit` rows of `table` after position `after`, in file order,
    /// with their positions: for walking a table without holding it.
    pub fn page(
        &mut self,
        table: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<(i64, String, Row)>> {
        self.flush()?;
        let rows: Vec<(i64, String, String)> = staged::table
            .filter(staged::tbl.eq(table).and(staged::seq.gt(after)))
            .order(staged::seq)
            .limit(limit)
            .select((staged::seq, staged::key, staged::body))
            .load(&mut self.conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(seq, key, body)| Some((seq, key, serde_json::from_str(&body).ok()?)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> Row {
        let mut r = Row::new();
        r.insert("id".into(), Value::String(id.into()));
        r
    }

    #[test]
    fn rows_come_back_by_key_in_file_order_and_pages_walk_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Staging::create(&dir.path().join("s.db")).unwrap();
        for i in 0..1_200 {
            s.add("phone", &format!("svc{}", i % 3), &row(&format!("p{i}")))
                .unwrap();
            s.add("service", &format!("svc{i}"), &row(&format!("svc{i}")))
                .unwrap();
        }
        s.seal().unwrap();
        let phones = s.rows("phone", "svc1").unwrap();
        assert_eq!(phones.len(), 400);
        assert_eq!(phones[0]["id"], "p1");
        assert_eq!(phones[1]["id"], "p4");
        assert!(s.rows("phone", "nobody").unwrap().is_empty());

        let mut after = -1;
        let mut seen = 0;
        loop {
            let page = s.page("service", after, 500).unwrap();
            let Some((last, _, _)) = page.last() else {
                break;
            };
            for (_, key, r) in &page {
                assert_eq!(r["id"], Value::String(key.clone()));
                assert_eq!(*key, format!("svc{seen}"));
                seen += 1;
            }
            after = *last;
        }
        assert_eq!(seen, 1_200);

        s.add("used", "svc7", &row("svc7")).unwrap();
        assert!(
            s.first("used", "svc7").unwrap().is_some(),
            "added after sealing"
        );
        assert!(s.first("used", "svc8").unwrap().is_none());
    }
}
