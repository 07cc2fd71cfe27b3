//! A filter matching documents that hold any of a set of terms, read into a
//! bitset per segment before the search starts.
//!
//! The place filter is a union of many terms (the grid cells round a point
//! and the codes of the areas it lies in), intersected with the rest of the
//! query. As a lazy union (tantivy's `BufferedUnionScorer`) each seek past
//! its window refills the window from every term; read into a bitset once,
//! every seek is a word lookup. Reading costs one pass over each term's
//! postings, which the lazy union mostly makes anyway for a filter this
//! broad. At a million services, keyword, typo and open-now searches near a
//! postcode took 5-8% less time (docs/benchmarks.md, session 8). tantivy's
//! `TermSetQuery` builds a bitset too, but compiles the terms into an
//! automaton first, which cost more than the search.

use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, Term};

/// Matches documents holding any of `terms` (of any fields), unscored.
#[derive(Clone, Debug)]
pub struct TermBitsetQuery {
    terms: Vec<Term>,
}

impl TermBitsetQuery {
    pub fn new(terms: Vec<Term>) -> Self {
        TermBitsetQuery { terms }
    }
}

impl Query for TermBitsetQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(TermBitsetWeight {
            terms: self.terms.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in &self.terms {
            visitor(term, false);
        }
    }
}

struct TermBitsetWeight {
    terms: Vec<Term>,
}

impl Weight for TermBitsetWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut docs = BitSet::with_max_value(reader.max_doc());
        for term in &self.terms {
            let index = reader.inverted_index(term.field())?;
            let Some(info) = index.get_term_info(term)? else {
                continue;
            };
            let mut postings =
                index.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
            while !postings.docs().is_empty() {
                for &doc in postings.docs() {
                    docs.insert(doc);
                }
                postings.advance();
            }
        }
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(docs), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("TermBitsetQuery", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} holds none of the terms"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{Schema, STRING};
    use tantivy::{doc, Index, IndexWriter};

    use super::*;

    /// Any term of either field matches; terms no document holds match
    /// nothing; deleted documents stay out; and the filter intersects.
    #[test]
    fn matches_documents_holding_any_of_the_terms() {
        let mut builder = Schema::builder();
        let cell = builder.add_text_field("cell", STRING);
        let area = builder.add_text_field("area", STRING);
        let kind = builder.add_text_field("kind", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer
            .add_document(doc!(cell => "a", kind => "local"))
            .unwrap(); // 0
        writer
            .add_document(doc!(cell => "b", kind => "local"))
            .unwrap(); // 1
        writer.add_document(doc!(area => "S12000049")).unwrap(); // 2
        writer
            .add_document(doc!(cell => "c", kind => "local"))
            .unwrap(); // 3
        writer
            .add_document(doc!(cell => "a", area => "S12000049", kind => "gone"))
            .unwrap(); // 4
        writer.commit().unwrap();
        writer.delete_term(Term::from_field_text(kind, "gone"));
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let matching = |query: &dyn Query| -> Vec<DocId> {
            let mut docs: Vec<DocId> = searcher
                .search(query, &DocSetCollector)
                .unwrap()
                .into_iter()
                .map(|address| address.doc_id)
                .collect();
            docs.sort();
            docs
        };
        let place = TermBitsetQuery::new(vec![
            Term::from_field_text(cell, "a"),
            Term::from_field_text(cell, "c"),
            Term::from_field_text(cell, "nowhere"),
            Term::from_field_text(area, "S12000049"),
        ]);
        assert_eq!(matching(&place), vec![0, 2, 3]);
        assert_eq!(
            matching(&TermBitsetQuery::new(vec![Term::from_field_text(
                cell, "nowhere"
            )])),
            Vec::<DocId>::new()
        );
        let local_and_place = BooleanQuery::new(vec![
            (Occur::Must, Box::new(place) as Box<dyn Query>),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(kind, "local"),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        assert_eq!(matching(&local_and_place), vec![0, 3]);
    }
}
