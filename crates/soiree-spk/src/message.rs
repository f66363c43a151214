//! Cap'n Proto framing helpers: single-segment builders, aligned copies, and a segment table
//! reader without the capnp crate's 512-segment cap (real `spk pack` archives can exceed it).

use capnp::message::{Builder, HeapAllocator, ReaderOptions, ReaderSegments};

/// A builder whose first segment holds `words` words, so small messages stay single-segment.
pub fn single_segment_builder(words: u32) -> Builder<HeapAllocator> {
    Builder::new(HeapAllocator::new().first_segment_words(words))
}

/// The standard stream framing of a built message.
pub fn to_bytes(builder: &Builder<HeapAllocator>) -> Vec<u8> {
    capnp::serialize::write_message_to_words(builder)
}

/// An 8-byte-aligned copy of `bytes` (which must be a whole number of words).
pub fn aligned(bytes: &[u8]) -> Vec<capnp::Word> {
    let mut words = capnp::Word::allocate_zeroed_vec(bytes.len() / 8);
    capnp::Word::words_to_bytes_mut(&mut words).copy_from_slice(&bytes[..bytes.len() / 8 * 8]);
    words
}

/// Reader options for small messages (signatures, keys): capnp's defaults.
pub fn small_options() -> ReaderOptions {
    ReaderOptions::new()
}

/// The segments of one standard-framed message inside a byte buffer.
pub struct FramedSegments<T: AsRef<[u8]>> {
    buf: T,
    ranges: Vec<(usize, usize)>,
    end: usize,
}

/// Why a segment table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Truncated,
    Misaligned,
    TooManySegments(u64),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Truncated => f.write_str("the message is cut short"),
            FrameError::Misaligned => f.write_str("the message is not 8-byte aligned in memory"),
            FrameError::TooManySegments(n) => write!(f, "the segment table claims {n} segments"),
        }
    }
}

/// Parses the segment table at the start of `buf`. `max_segments` bounds the table itself.
pub fn frame<T: AsRef<[u8]>>(buf: T, max_segments: u64) -> Result<FramedSegments<T>, FrameError> {
    let bytes = buf.as_ref();
    if !(bytes.as_ptr() as usize).is_multiple_of(8) {
        return Err(FrameError::Misaligned);
    }
    let u32_at = |i: usize| -> Result<u64, FrameError> {
        let b = bytes.get(i * 4..i * 4 + 4).ok_or(FrameError::Truncated)?;
        Ok(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    let count = u32_at(0)? + 1;
    if count > max_segments {
        return Err(FrameError::TooManySegments(count));
    }
    let header_words = (count + 2) / 2; // 4 bytes of count + 4 per size, padded to 8
    let mut offset = usize::try_from(header_words * 8).map_err(|_| FrameError::Truncated)?;
    let mut ranges = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let words = u32_at(i + 1)?;
        let len = usize::try_from(words * 8).map_err(|_| FrameError::Truncated)?;
        let end = offset.checked_add(len).ok_or(FrameError::Truncated)?;
        if end > bytes.len() {
            return Err(FrameError::Truncated);
        }
        ranges.push((offset, end));
        offset = end;
    }
    Ok(FramedSegments {
        buf,
        ranges,
        end: offset,
    })
}

impl<T: AsRef<[u8]>> FramedSegments<T> {
    /// Bytes from the start of the buffer to the end of the last segment.
    pub fn len(&self) -> usize {
        self.end
    }

    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    pub fn segment_count(&self) -> usize {
        self.ranges.len()
    }

    /// Words in all segments: Sandstorm's traversal limit for an archive.
    pub fn total_words(&self) -> u64 {
        self.ranges.iter().map(|(a, b)| ((b - a) / 8) as u64).sum()
    }
}

impl<T: AsRef<[u8]>> ReaderSegments for FramedSegments<T> {
    fn get_segment(&self, idx: u32) -> Option<&[u8]> {
        let (a, b) = *self.ranges.get(idx as usize)?;
        self.buf.as_ref().get(a..b)
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_two_segment_message() {
        // 2 segments of 1 and 2 words: header is 4 + 8 bytes, padded to 16.
        let mut bytes = vec![1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0u8; 24]);
        let words = aligned(&bytes);
        let f = frame(capnp::Word::words_to_bytes(&words), 512).unwrap();
        assert_eq!(f.segment_count(), 2);
        assert_eq!(f.len(), 40);
        assert_eq!(f.total_words(), 3);
    }

    #[test]
    fn rejects_truncation_and_huge_tables() {
        let words = aligned(&[0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            frame(capnp::Word::words_to_bytes(&words), 512).err(),
            Some(FrameError::Truncated)
        );
        let words = aligned(&[0xff, 0xff, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            frame(capnp::Word::words_to_bytes(&words), 512).err(),
            Some(FrameError::TooManySegments(65536))
        );
    }
}
