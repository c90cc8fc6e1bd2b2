//! One resource served in several forms, the preferred first (conda's `repodata.json.zst`, then
//! `repodata.json`, then `.bz2`). The first few forms are asked for at once, so a missing
//! preferred form costs no round of its own; but a form's body is read only once every form
//! before it is known to be missing, and as soon as one is answered the later ones are dropped
//! unread (a dropped answer costs what its connection had buffered, not its size). The forms
//! after those (a fallback hardly any server needs) are asked for only once those are all
//! missing, and the forms after one the cache holds a body of only if that one is now missing:
//! a warm run asks for what it used. A form's body may be read while it arrives
//! ([`ReadsArriving`]), by a reader its caller makes for that form.

use std::sync::{Arc, Mutex};

use futures::stream::{FuturesOrdered, StreamExt};
use tokio::sync::watch;
use url::Url;

use super::body::Sink;
use super::index_body::{IndexBody, IndexSink, ReadsArriving};
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

/// The answer of a resource's first form that is not missing.
pub(crate) struct PreferredForm<R> {
    /// The form's position among the resource's forms.
    pub(crate) form: usize,
    pub(crate) body: Body,
    /// The form's reader, when it read the body while it arrived (a body the cache answered
    /// with, or one too large to be kept in memory, is not).
    pub(crate) read: Option<R>,
}

/// An index's body that is read only when every earlier form is missing.
struct Gated<'a, R> {
    body: IndexSink,
    forms: Forms,
    /// The form it is the body of.
    index: usize,
    reading: Option<FormReader<'a, R>>,
}

/// The reader of a form's body while it arrives, and where it goes once that body is the answer.
struct FormReader<'a, R> {
    reader: R,
    answered: &'a Mutex<Option<R>>,
}

impl<R: ReadsArriving> Sink for Gated<'_, R> {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.body.write(chunk)?;
        if let (Some(reading), Some(so_far)) = (&mut self.reading, self.body.in_memory()) {
            reading.reader.arrived(so_far);
        }
        Ok(())
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

/// A whole body: its reader, if it read all of it, goes to the answer.
impl<R> From<Gated<'_, R>> for IndexBody {
    fn from(gated: Gated<'_, R>) -> Self {
        if let Some(reading) = gated.reading.filter(|_| gated.body.in_memory().is_some()) {
            *reading.answered.lock().unwrap_or_else(|e| e.into_inner()) = Some(reading.reader);
        }
        gated.body.into()
    }
}

/// Makes the reader of a form's body while it arrives, by the form's position, if it has one.
type NewReader<'a, R> = &'a dyn Fn(usize) -> Option<R>;

impl Fetcher {
    /// The first form of a resource that is not missing (its forms' URLs `forms`, the preferred
    /// first, a mutable index), or its error; when every form is missing, the first one's 404.
    /// The first `at_once` forms are asked for at once, the others one by one as those before
    /// them turn out missing. A form's body is read while it arrives by the reader `new_reader`
    /// makes for its position, if any.
    pub(crate) fn get_preferred<R: ReadsArriving>(
        &self,
        forms: &[Url],
        at_once: usize,
        what: &str,
        new_reader: impl Fn(usize) -> Option<R>,
    ) -> Result<PreferredForm<R>, FetchError> {
        let resource = std::slice::from_ref(&forms);
        self.run_all(resource, what, |forms| {
            self.first_present_form(forms, at_once, &new_reader)
        })
        .remove(0)
    }

    /// [`Fetcher::get_preferred`] of the forms `urls`, `new_reader` making readers by their
    /// positions among them.
    async fn first_present_form<R: ReadsArriving>(
        &self,
        urls: &[Url],
        at_once: usize,
        new_reader: NewReader<'_, R>,
    ) -> Result<PreferredForm<R>, FetchError> {
        let cached = urls
            .iter()
            .position(|url| self.cache_has_body(url.as_str()));
        // Every form up to the one the cache holds is asked again; else the first `at_once`.
        let asked = cached
            .map_or(at_once, |known| known + 1)
            .max(1)
            .min(urls.len());
        let (first, rest) = urls.split_at(asked);
        let missing = match self.get_first_form(first, new_reader).await {
            Err(error) if error.is_not_found() && !rest.is_empty() => error,
            answer => return answer,
        };
        let later_reader = |form| new_reader(first.len() + form);
        let later = self.first_present_form(rest, at_once.saturating_sub(asked), &later_reader);
        match Box::pin(later).await {
            Ok(found) => Ok(PreferredForm {
                form: first.len() + found.form,
                ..found
            }),
            Err(error) if error.is_not_found() => Err(missing),
            Err(error) => Err(error),
        }
    }

    /// The first of the forms `urls` that is not missing, every one asked for at once.
    async fn get_first_form<R: ReadsArriving>(
        &self,
        urls: &[Url],
        new_reader: NewReader<'_, R>,
    ) -> Result<PreferredForm<R>, FetchError> {
        let forms: Forms = Arc::new(watch::channel(vec![Form::Pending; urls.len()]).0);
        let mut answers: FuturesOrdered<_> = urls
            .iter()
            .enumerate()
            .map(|(index, url)| self.get_form(url, index, forms.clone(), new_reader))
            .collect();
        let mut missing = None;
        while let Some((form, answer)) = answers.next().await {
            match answer {
                Ok((body, read)) => return Ok(PreferredForm { form, body, read }),
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

    /// The answer for the form `index` of a resource, told to the other forms as it is known,
    /// with its reader if it read the body while it arrived.
    async fn get_form<R: ReadsArriving>(
        &self,
        url: &Url,
        index: usize,
        forms: Forms,
        new_reader: NewReader<'_, R>,
    ) -> (usize, Result<(Body, Option<R>), FetchError>) {
        let answered = Mutex::new(None);
        let new_sink = || {
            let reading = new_reader(index).map(|reader| FormReader {
                reader,
                answered: &answered,
            });
            let body = IndexSink::new(&self.cache, url.as_str());
            Ok(Gated {
                body: if reading.is_some() {
                    body.read_arriving()
                } else {
                    body
                },
                forms: forms.clone(),
                index,
                reading,
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
        let read = answered.into_inner().unwrap_or_else(|e| e.into_inner());
        (index, answer.map(|body| (body, read)))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};

    use super::*;
    use crate::fetch::{Cache, FetchOptions};

    /// A reader that keeps how long the body was each time it was told of it.
    #[derive(Default)]
    struct Lengths(Vec<usize>);

    impl ReadsArriving for Lengths {
        fn arrived(&mut self, so_far: &[u8]) {
            self.0.push(so_far.len());
        }
    }

    const PARTS: [&[u8]; 3] = [
        br#"{"packages":"#,
        br#"{"a-1-0.conda":{}},"#,
        br#""info":{}}"#,
    ];

    /// Serves the body of [`PARTS`] at `/index.json`, a part at a time, with the ETag `"e"` (a
    /// 304 to a request that presents it), and 404 at any other path; one connection per
    /// request. Its base URL.
    fn serve() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
                let request = lines.next().and_then(Result::ok).unwrap_or_default();
                let headers: Vec<String> = lines
                    .map_while(Result::ok)
                    .take_while(|line| !line.is_empty())
                    .collect();
                let revalidating = headers.iter().any(|h| h.ends_with("\"e\""));
                let close = "Connection: close\r\n";
                let answer = match request.split(' ').nth(1) {
                    Some("/index.json") if revalidating => {
                        format!("HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n{close}\r\n")
                    }
                    Some("/index.json") => {
                        let length: usize = PARTS.iter().map(|part| part.len()).sum();
                        format!(
                            "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: {length}\r\n{close}\r\n"
                        )
                    }
                    _ => format!("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n{close}\r\n"),
                };
                let _ = stream.write_all(answer.as_bytes());
                if answer.starts_with("HTTP/1.1 200") {
                    for part in PARTS {
                        let _ = stream.write_all(part).and_then(|()| stream.flush());
                        std::thread::sleep(std::time::Duration::from_millis(30));
                    }
                }
            }
        });
        base
    }

    fn fetcher(cache: &Cache) -> Fetcher {
        Fetcher::new(FetchOptions {
            cache: cache.clone(),
            offline: false,
            refresh: false,
            progress: crate::progress::Progress::hidden(),
            limits: Default::default(),
        })
        .unwrap()
    }

    #[test]
    fn a_body_is_read_while_it_arrives_by_its_forms_reader_which_is_handed_back() {
        let base = serve();
        let forms: Vec<Url> = ["index.json.zst", "index.json"]
            .iter()
            .map(|name| Url::parse(&format!("{base}/{name}")).unwrap())
            .collect();
        let whole = PARTS.concat();
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::at(root.path());
        let second_form_read = |form| (form == 1).then(Lengths::default);

        let found = fetcher(&cache)
            .get_preferred(&forms, 2, "index", second_form_read)
            .unwrap();
        assert_eq!((found.form, &found.body[..]), (1, &whole[..]));
        // Told of the body as it grew, part by part, up to the whole of it.
        let lengths = found.read.expect("the reader read the body").0;
        assert!(lengths.len() >= 2, "{lengths:?}");
        assert!(
            lengths.windows(2).all(|pair| pair[0] < pair[1]),
            "{lengths:?}"
        );
        assert_eq!(lengths.last(), Some(&whole.len()));

        // Answered from the cache (the server's 304), the body did not arrive: no reader.
        let revalidated = fetcher(&cache)
            .get_preferred(&forms, 2, "index", second_form_read)
            .unwrap();
        assert_eq!(&revalidated.body[..], &whole[..]);
        assert!(revalidated.read.is_none());

        // A form its caller gives no reader hands none back.
        let fresh = tempfile::tempdir().unwrap();
        let unread = fetcher(&Cache::at(fresh.path()))
            .get_preferred(&forms, 2, "index", |_| None::<Lengths>)
            .unwrap();
        assert_eq!(&unread.body[..], &whole[..]);
        assert!(unread.read.is_none());
    }
}
