//! One resource served in several forms, the preferred first (conda's `repodata.json.zst`, then
//! `repodata.json`, then `.bz2`). The first few forms are asked for at once, so a missing
//! preferred form costs no round of its own; but a form's body is read only once every form
//! before it is known to be missing, and as soon as one is answered the later ones are dropped
//! unread (a dropped answer costs what its connection had buffered, not its size). The forms
//! after those (a fallback hardly any server needs) are asked for only once those are all
//! missing, and the forms after one the cache holds a body of only if that one is now missing:
//! a warm run asks for what it used.

use std::sync::Arc;

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::watch;
use url::Url;

use super::body::Sink;
use super::index_body::{IndexBody, IndexSink};
use super::{Body, FetchError, Fetcher, Mutability};

/// What is known of one form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Not answered yet.
    Pending,
    /// Answered 404: the next form may be read.
    Missing,
    /// Answered otherwise (a body, or a failure to report): no later form is read.
    Answered,
}

/// What is known of every form of one resource, shared by the requests for them.
type Forms = Arc<watch::Sender<Vec<Form>>>;

/// An index's body that is read only when every earlier form is missing.
struct Gated {
    body: IndexSink,
    forms: Forms,
    /// The form it is the body of.
    index: usize,
}

impl Sink for Gated {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.body.write(chunk)
    }

    fn expect(&mut self, length: u64, headers: &reqwest::header::HeaderMap) {
        self.body.expect(length, headers);
    }

    async fn wanted(&mut self) -> bool {
        let index = self.index;
        let mut known = self.forms.subscribe();
        let earlier = known
            .wait_for(|forms| forms[..index].iter().all(|form| *form != Form::Pending))
            .await
            .map(|forms| forms[..index].to_vec());
        let wanted = earlier.is_ok_and(|forms| forms.iter().all(|form| *form == Form::Missing));
        if wanted {
            // Said now, before the body is read, so the later forms stop waiting.
            self.forms
                .send_modify(|forms| forms[index] = Form::Answered);
        }
        wanted
    }
}

impl From<Gated> for IndexBody {
    fn from(gated: Gated) -> Self {
        gated.body.into()
    }
}

impl Fetcher {
    /// For every resource of `resources` (each its forms' URLs, the preferred first, each a
    /// mutable index), the first form that is not missing: its position and body, or its
    /// error; when every form is missing, the first one's 404. The first `at_once` forms are
    /// asked for at once, the others one by one as those before them turn out missing. Results
    /// are in the order of `resources`.
    pub(crate) fn get_all_preferred(
        &self,
        resources: &[Vec<Url>],
        at_once: usize,
        what: &str,
    ) -> Vec<Result<(usize, Body), FetchError>> {
        self.run_all(resources, what, |forms| self.get_preferred(forms, at_once))
    }

    async fn get_preferred(
        &self,
        urls: &[Url],
        at_once: usize,
    ) -> Result<(usize, Body), FetchError> {
        let cached = urls
            .iter()
            .position(|url| self.cache_has_body(url.as_str()));
        // Every form up to the one the cache holds is asked again; else the first `at_once`.
        let asked = cached
            .map_or(at_once, |known| known + 1)
            .max(1)
            .min(urls.len());
        let (first, rest) = urls.split_at(asked);
        let missing = match self.get_first_form(first).await {
            Err(error) if error.is_not_found() && !rest.is_empty() => error,
            answer => return answer,
        };
        match Box::pin(self.get_preferred(rest, at_once.saturating_sub(asked))).await {
            Ok((index, body)) => Ok((first.len() + index, body)),
            Err(error) if error.is_not_found() => Err(missing),
            Err(error) => Err(error),
        }
    }

    /// The first of the forms `urls` that is not missing, every one asked for at once.
    async fn get_first_form(&self, urls: &[Url]) -> Result<(usize, Body), FetchError> {
        let forms: Forms = Arc::new(watch::channel(vec![Form::Pending; urls.len()]).0);
        let mut answers: FuturesOrdered<_> = urls
            .iter()
            .enumerate()
            .map(|(index, url)| self.get_form(url, index, forms.clone()))
            .collect();
        let mut missing = None;
        while let Some((index, answer)) = answers.next().await {
            match answer {
                Ok(body) => return Ok((index, body)),
                Err(error) if error.is_not_found() => {
                    missing.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(missing.unwrap_or_else(|| FetchError::NotFound {
            url: urls.first().map(Url::to_string).unwrap_or_default(),
        }))
    }

    /// The answer for the form `index` of a resource, told to the other forms as it is known.
    async fn get_form(
        &self,
        url: &Url,
        index: usize,
        forms: Forms,
    ) -> (usize, Result<Body, FetchError>) {
        let new_sink = || {
            let forms = forms.clone();
            Ok(Gated {
                body: IndexSink::new(&self.cache, url.as_str()),
                forms,
                index,
            })
        };
        let answer = self
            .get_into(url, None, Mutability::Mutable, new_sink)
            .await;
        let form = match &answer {
            Err(error) if error.is_not_found() => Form::Missing,
            _ => Form::Answered,
        };
        forms.send_modify(|forms| {
            if forms[index] == Form::Pending {
                forms[index] = form;
            }
        });
        (index, answer)
    }
}
