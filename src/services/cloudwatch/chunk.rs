//! The binary layout of a chunk of datapoints (one row of `metric_chunks`).
//!
//! Two blob kinds use this layout: chunks (one series, `metric_chunks`) and ingest-log rows
//! (many series, each point preceded by its `series_id: i64`, `metric_ingest_log`).
//! Points are appended back to back, little-endian:
//! `timestamp_ms: i64, flags: u8, unit: u8, payload`, where the flags' low two bits give the
//! payload kind (0 one value `f64`; 1 statistic set, four `f64`; 2 value array, `u16` length
//! then `(value, count)` `f64` pairs) and bit 2 marks high-resolution storage. Fixed-width
//! fields keep decoding a tight loop: a query over a million points decodes in milliseconds.

use super::stats::Sample;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    pub timestamp_ms: i64,
    pub unit: u8,
    pub high_resolution: bool,
    pub sample: Sample,
}

const KIND_SINGLE: u8 = 0;
const KIND_SET: u8 = 1;
const KIND_VALUES: u8 = 2;
const HIGH_RES: u8 = 0b100;

pub fn encode_into(out: &mut Vec<u8>, point: &StoredPoint) {
    out.extend_from_slice(&point.timestamp_ms.to_le_bytes());
    let res = if point.high_resolution { HIGH_RES } else { 0 };
    match &point.sample {
        Sample::Single(v) => {
            out.extend_from_slice(&[KIND_SINGLE | res, point.unit]);
            out.extend_from_slice(&v.to_le_bytes());
        }
        Sample::Set {
            sample_count,
            sum,
            minimum,
            maximum,
        } => {
            out.extend_from_slice(&[KIND_SET | res, point.unit]);
            for f in [sample_count, sum, minimum, maximum] {
                out.extend_from_slice(&f.to_le_bytes());
            }
        }
        Sample::Values { values, counts } => {
            out.extend_from_slice(&[KIND_VALUES | res, point.unit]);
            let n = u16::try_from(values.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&n.to_le_bytes());
            for i in 0..usize::from(n) {
                let v = values.get(i).copied().unwrap_or_default();
                let c = counts.get(i).copied().unwrap_or(1.0);
                out.extend_from_slice(&v.to_le_bytes());
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }
    fn f64(&mut self) -> Option<f64> {
        self.take::<8>().map(f64::from_le_bytes)
    }
}

/// Hands every point of a chunk for which `keep(timestamp_ms)` holds to `visit`; `None` if the
/// blob is truncated or unknown (a corrupt row). Points are visited, not collected, so a query
/// over a million points allocates nothing per point.
pub fn decode(
    bytes: &[u8],
    mut keep: impl FnMut(i64) -> bool,
    mut visit: impl FnMut(StoredPoint),
) -> Option<()> {
    let mut r = Reader { bytes };
    while !r.bytes.is_empty() {
        let point = read_point(&mut r)?;
        if keep(point.timestamp_ms) {
            visit(point);
        }
    }
    Some(())
}

/// Ingest-log blobs hold points of many series: each point is preceded by its series id.
pub fn encode_tagged_into(out: &mut Vec<u8>, series_id: i64, point: &StoredPoint) {
    out.extend_from_slice(&series_id.to_le_bytes());
    encode_into(out, point);
}

/// Visits the points of an ingest-log blob for which `keep(series_id, timestamp_ms)` holds.
pub fn decode_tagged(
    bytes: &[u8],
    mut keep: impl FnMut(i64, i64) -> bool,
    mut visit: impl FnMut(i64, StoredPoint),
) -> Option<()> {
    let mut r = Reader { bytes };
    while !r.bytes.is_empty() {
        let series_id = i64::from_le_bytes(r.take::<8>()?);
        let point = read_point(&mut r)?;
        if keep(series_id, point.timestamp_ms) {
            visit(series_id, point);
        }
    }
    Some(())
}

fn read_point(r: &mut Reader<'_>) -> Option<StoredPoint> {
    let timestamp_ms = i64::from_le_bytes(r.take::<8>()?);
    let [flags, unit] = r.take::<2>()?;
    let sample = match flags & 0b11 {
        KIND_SINGLE => Sample::Single(r.f64()?),
        KIND_SET => Sample::Set {
            sample_count: r.f64()?,
            sum: r.f64()?,
            minimum: r.f64()?,
            maximum: r.f64()?,
        },
        KIND_VALUES => {
            let n = usize::from(u16::from_le_bytes(r.take::<2>()?));
            let mut values = Vec::with_capacity(n);
            let mut counts = Vec::with_capacity(n);
            for _ in 0..n {
                values.push(r.f64()?);
                counts.push(r.f64()?);
            }
            Sample::Values { values, counts }
        }
        _ => return None,
    };
    Some(StoredPoint {
        timestamp_ms,
        unit,
        high_resolution: flags & HIGH_RES != 0,
        sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let points = vec![
            StoredPoint {
                timestamp_ms: 1_000,
                unit: 3,
                high_resolution: false,
                sample: Sample::Single(12.5),
            },
            StoredPoint {
                timestamp_ms: -5,
                unit: 0,
                high_resolution: true,
                sample: Sample::Set {
                    sample_count: 3.0,
                    sum: 6.0,
                    minimum: 1.0,
                    maximum: 3.0,
                },
            },
            StoredPoint {
                timestamp_ms: 2_000,
                unit: 15,
                high_resolution: false,
                sample: Sample::Values {
                    values: vec![1.0, 2.0],
                    counts: vec![4.0, 1.0],
                },
            },
        ];
        let mut blob = Vec::new();
        for p in &points {
            encode_into(&mut blob, p);
        }
        let mut out = Vec::new();
        decode(&blob, |_| true, |p| out.push(p)).unwrap();
        assert_eq!(out, points);
        out.clear();
        decode(&blob, |t| t >= 1_000, |p| out.push(p)).unwrap();
        assert_eq!(out.len(), 2);
        assert!(decode(&blob[..blob.len() - 1], |_| true, |_| ()).is_none());

        let mut tagged = Vec::new();
        for (i, p) in points.iter().enumerate() {
            encode_tagged_into(&mut tagged, i as i64 % 2, p);
        }
        let mut seen = Vec::new();
        decode_tagged(
            &tagged,
            |series, _| series == 0,
            |series, p| seen.push((series, p)),
        )
        .unwrap();
        assert_eq!(seen, vec![(0, points[0].clone()), (0, points[2].clone())]);
        assert!(decode_tagged(&tagged[..tagged.len() - 3], |_, _| true, |_, _| ()).is_none());
    }
}
