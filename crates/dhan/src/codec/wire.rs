//! Little-endian field access for the codec: a reader that walks a layout whose length
//! was checked once, and a writer that appends fields in the same order. Keeping reads
//! sequential means a layout is written down once per direction, in table order, with no
//! offset arithmetic to get wrong.

use crate::packet::HEADER_LEN;

/// Reads the payload fields of one packet in wire order.
#[derive(Debug)]
pub(super) struct FieldReader<'a> {
    rest: &'a [u8],
}

impl<'a> FieldReader<'a> {
    /// Starts after the header of a packet layout of `LEN` bytes. Taking a fixed-size
    /// array (rather than a slice) lets the optimiser see that every read below fits,
    /// so the reads compile to plain loads.
    #[inline]
    pub(super) fn after_header<const LEN: usize>(layout: &'a [u8; LEN]) -> Self {
        Self {
            rest: layout.get(HEADER_LEN..).unwrap_or_default(),
        }
    }

    #[inline]
    fn take<const W: usize>(&mut self) -> [u8; W] {
        match self.rest.split_first_chunk::<W>() {
            Some((field, rest)) => {
                self.rest = rest;
                *field
            }
            None => {
                // Only a layout that reads past its own declared length gets here: a
                // bug in the codec, never a property of the input, whose length was
                // checked before the reader was made.
                debug_assert!(false, "codec layout reads past its length");
                self.rest = &[];
                [0; W]
            }
        }
    }

    #[inline]
    pub(super) fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }

    #[inline]
    pub(super) fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    /// Bit-exact: NaN payloads and negative zero survive a round trip.
    #[inline]
    pub(super) fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take())
    }
}

/// Appends fields in wire order.
#[derive(Debug)]
pub(super) struct FieldWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> FieldWriter<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    pub(super) fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub(super) fn u16(&mut self, value: u16) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub(super) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub(super) fn f32(&mut self, value: f32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }
}
