use super::*;
use crate::fetch::ReadsArriving;

/// A record of `name` 1.0 with build `build`, depending on `depends`.
fn record(name: &str, build: &str, depends: &str) -> String {
    format!(
        r#"{{"build":"{build}","build_number":0,"depends":[{depends}],"name":"{name}","subdir":"linux-64","version":"1.0"}}"#
    )
}

/// A repodata of `count` packages `pkg0`..: each `pkgN` depends on `pkg(N+1)`, with a
/// `.tar.bz2` and a `.conda` file each; `filler` is put in every record's `license`.
fn chain(count: usize, filler: &str) -> String {
    let entries = |ext: &str| {
        (0..count)
            .map(|i| {
                let depends = format!(r#""pkg{} >=1""#, i + 1);
                let mut text = record(&format!("pkg{i}"), "h0", &depends);
                text.insert_str(1, &format!(r#""license":"{filler}","#));
                format!(r#""pkg{i}-1.0-h0.{ext}":{text}"#)
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"info":{{"subdir":"linux-64"}},"packages":{{{}}},"packages.conda":{{{}}},"removed":["pkg0-0.9-h0.tar.bz2"],"repodata_version":1}}"#,
        entries("tar.bz2"),
        entries("conda")
    )
}

/// The file names of `name`'s records in `map`.
fn files(index: &RecordIndex, json: &[u8], map: RecordMap, name: &str) -> Vec<String> {
    let mut files: Vec<String> = index
        .records(json, map, name)
        .map(|(file, _)| String::from_utf8(file.to_vec()).unwrap())
        .collect();
    files.sort();
    files
}

#[test]
fn records_are_found_by_the_package_name_their_file_name_starts_with() {
    let json = format!(
        r#"{{"info":{{"subdir":"linux-64"}},"packages":{{"clang-format-13-13.0-h0.tar.bz2":{},"clang-format-12.0-h0.tar.bz2":{}}},"packages.conda":{{"clang-format-13.0-h1.conda":{}}}}}"#,
        record("clang-format-13", "h0", ""),
        record("clang-format", "h0", ""),
        record("clang-format", "h1", "")
    );
    let index = RecordIndex::build(json.as_bytes()).unwrap();
    let json = json.as_bytes();
    assert_eq!(
        files(&index, json, RecordMap::Packages, "clang-format"),
        ["clang-format-12.0-h0.tar.bz2"]
    );
    assert_eq!(
        files(&index, json, RecordMap::Conda, "clang-format"),
        ["clang-format-13.0-h1.conda"]
    );
    assert_eq!(
        files(&index, json, RecordMap::Packages, "clang-format-13"),
        ["clang-format-13-13.0-h0.tar.bz2"]
    );
    assert!(files(&index, json, RecordMap::Conda, "clang").is_empty());
}

#[test]
fn a_cut_holds_one_package_s_records_and_removed_files_and_the_rest_whole() {
    let json = format!(
        r#"{{"info":{{"subdir":"linux-64","base_url":"https://mirror.example/"}},"packages":{{"app-0.9-h0.tar.bz2":{}}},"packages.conda":{{"app-1.0-h0.conda":{},"app-extra-1.0-h0.conda":{},"lib-1.0-h0.conda":{}}},"removed":["lib-0.1-h0.conda","app-0.1-h0.conda","app-extra-0.1-h0.conda"],"repodata_version":2}}"#,
        record("app", "h0", ""),
        record("app", "h0", r#""lib >=1""#),
        record("app-extra", "h0", ""),
        record("lib", "h0", "")
    );
    let index = RecordIndex::build(json.as_bytes()).unwrap();
    let app = record("app", "h0", "").len() + record("app", "h0", r#""lib >=1""#).len();
    assert_eq!(index.bytes_of(json.as_bytes(), "app"), app);
    assert_eq!(index.bytes_of(json.as_bytes(), "absent"), 0);
    let cut: serde_json::Value =
        serde_json::from_slice(&index.repodata_of(json.as_bytes(), "app")).unwrap();
    let whole: serde_json::Value = serde_json::from_str(&json).unwrap();
    for kept in ["info", "repodata_version"] {
        assert_eq!(cut[kept], whole[kept], "{kept}");
    }
    // Only `app`'s removed file, not `app-extra`'s, whose name it starts.
    assert_eq!(cut["removed"], serde_json::json!(["app-0.1-h0.conda"]));
    assert_eq!(
        cut["packages"],
        serde_json::json!({"app-0.9-h0.tar.bz2": whole["packages"]["app-0.9-h0.tar.bz2"]})
    );
    assert_eq!(
        cut["packages.conda"],
        serde_json::json!({"app-1.0-h0.conda": whole["packages.conda"]["app-1.0-h0.conda"]})
    );
    // A removed file rattler does not read keeps the whole list in every cut, for rattler to
    // refuse it as it would in the whole file.
    let escaped = json.replace(r#""lib-0.1-h0.conda""#, r#""lib-0.1-h0\u002econda""#);
    let index = RecordIndex::build(escaped.as_bytes()).unwrap();
    let cut: serde_json::Value =
        serde_json::from_slice(&index.repodata_of(escaped.as_bytes(), "app")).unwrap();
    assert_eq!(cut["removed"].as_array().unwrap().len(), 3);
}

#[test]
fn two_threads_read_the_same_index_as_one() {
    let json = chain(2000, "MIT");
    let one = RecordIndex::build_split_at(json.as_bytes(), usize::MAX).unwrap();
    let two = RecordIndex::build_split_at(json.as_bytes(), 0).unwrap();
    // Two threads made two runs of the map the middle fell in.
    assert_eq!(one.maps.iter().map(Vec::len).sum::<usize>(), 2);
    assert_eq!(two.maps.iter().map(Vec::len).sum::<usize>(), 3);
    let json = json.as_bytes();
    for i in [0, 999, 1000, 1001, 1999] {
        let name = format!("pkg{i}");
        for map in RecordMap::ALL {
            assert_eq!(files(&one, json, map, &name), files(&two, json, map, &name));
            assert_eq!(files(&two, json, map, &name).len(), 1, "{name}");
        }
    }
    assert_eq!(one.kept, two.kept);
    // Malformed past the middle: the second part does not read, and neither does the whole.
    let broken = std::str::from_utf8(json).unwrap().replacen(
        r#""repodata_version":1"#,
        r#""repodata_version":1,"#,
        1,
    );
    assert!(record_start_near(broken.as_bytes(), broken.len() / 2).is_some());
    assert!(RecordIndex::build_split_at(broken.as_bytes(), 0).is_none());
}

#[test]
fn a_guessed_record_start_inside_a_record_is_dropped() {
    // Every record holds, after a long license, an object followed by a key spelt like a
    // record's file name: where the middle falls, the guess is that key, inside a record.
    let filler = "x".repeat(2000);
    let fooling = format!(r#"{filler}","meta":{{"a":1}},"fake-1.0-h0.conda":{{"b":2}},"l":""#);
    let json = chain(600, &fooling);
    let guess = record_start_near(json.as_bytes(), json.len() / 2).unwrap();
    assert!(json[guess..].starts_with(r#""fake-1.0-h0.conda""#));
    let one = RecordIndex::build_split_at(json.as_bytes(), usize::MAX).unwrap();
    let two = RecordIndex::build_split_at(json.as_bytes(), 0).unwrap();
    // The first reader read on alone: one run per map.
    assert_eq!(two.maps.iter().map(Vec::len).sum::<usize>(), 2);
    let json = json.as_bytes();
    assert!(files(&two, json, RecordMap::Conda, "fake").is_empty());
    for i in [0, 300, 599] {
        let name = format!("pkg{i}");
        let found = files(&two, json, RecordMap::Conda, &name);
        assert_eq!(found, [format!("{name}-1.0-h0.conda")]);
        assert_eq!(files(&one, json, RecordMap::Conda, &name), found);
    }
}

#[test]
fn a_repodata_this_index_does_not_read_is_left_to_rattler() {
    let lib = record("lib", "h0", "");
    let unknown = [
        format!(r#"{{"v3":{{"conda":{{"lib-1.0-h0":{lib}}}}}}}"#),
        format!(r#"{{"packages.conda":{{"lib-1.0-h\u0030.conda":{lib}}}}}"#),
        format!(r#"{{"packages.conda":{{}},"packages.conda":{{"lib-1.0-h0.conda":{lib}}}}}"#),
        r#"{"info":{},"info":{"base_url":"mailto:x"}}"#.to_string(),
        format!(r#"{{"packages.conda":{{"lib.conda":{lib}}}}}"#),
        format!(r#"{{"packages.conda":{{"lib-1.0-h0.conda":{lib}}}}} x"#),
        format!(r#"{{"packages.conda":{{"lib-1.0-h0.conda":{lib},}}}}"#),
        r#"{"packages":{"lib-1.0-h0.tar.bz2":{"name":"lib""#.to_string(),
    ];
    for json in unknown {
        assert!(RecordIndex::build(json.as_bytes()).is_none(), "{json}");
        for chunk in [1, 5] {
            let arrived = ArrivingIndex::arrived_in_chunks(json.as_bytes(), chunk);
            assert!(arrived.finish(json.as_bytes()).is_none(), "{json}");
        }
        let split = RecordIndex::build_split_at(json.as_bytes(), 0);
        assert!(split.is_none(), "{json}");
    }
    // Whitespace and unknown keys are read past.
    let spaced = format!(
        " {{ \"x\" : [1, {{}}] ,\n \"packages.conda\" : {{ \"lib-1.0-h0.conda\" : {lib} }} }}\n"
    );
    let index = RecordIndex::build(spaced.as_bytes()).unwrap();
    assert_eq!(
        files(&index, spaced.as_bytes(), RecordMap::Conda, "lib"),
        ["lib-1.0-h0.conda"]
    );
}

#[test]
fn an_index_made_while_the_bytes_arrive_is_the_index_of_the_whole() {
    // A number at the end (the bytes so far may cut it short), and a long value in many chunks.
    let removed: Vec<String> = (0..2000)
        .map(|i| format!("\"old{i}-0.1-h0.conda\""))
        .collect();
    let json = chain(40, "MIT")
        .replace(r#""repodata_version":1"#, r#""repodata_version":12345"#)
        .replace(
            r#"["pkg0-0.9-h0.tar.bz2"]"#,
            &format!("[{}]", removed.join(", ")),
        );
    let json = json.as_bytes();
    let whole = RecordIndex::build_split_at(json, usize::MAX).unwrap();
    for chunk in [1, 2, 3, 7, 64, 1000, json.len()] {
        let index = ArrivingIndex::arrived_in_chunks(json, chunk)
            .finish(json)
            .unwrap();
        assert_eq!(index.maps, whole.maps, "chunks of {chunk}");
        assert_eq!(index.kept, whole.kept, "chunks of {chunk}");
    }
    // Told of bytes that end inside a number, it reads the number again once the rest is in.
    let number = json.windows(5).position(|w| w == b"12345").unwrap();
    for cut in [number + 1, number + 4, number + 5] {
        let mut arriving = ArrivingIndex::new();
        arriving.arrived(&json[..cut]);
        arriving.arrived(json);
        let index = arriving.finish(json).unwrap();
        assert_eq!(index.kept, whole.kept, "cut at {cut}");
    }
    // Told of only the start of a body, it indexes the whole body anew.
    let mut start = ArrivingIndex::new();
    start.arrived(&json[..json.len() / 2]);
    let index = start.finish(json).unwrap();
    assert_eq!((index.maps, index.kept), (whole.maps, whole.kept));
}
