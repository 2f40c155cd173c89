//! A `.zip` archive written as it goes, for `customers export --out
//! FILE.zip`: each file is stored (not compressed: raw mail and most
//! attachments gain little, and the reader needs nothing but a ZIP tool),
//! its header and bytes written at once, so that only the file being added
//! is in memory. The format is PKWARE's APPNOTE.TXT (sections 4.3.7 local
//! header, 4.3.12 central directory, 4.3.16 end record), without ZIP64:
//! an archive that would need it (4 GiB, 65,535 files) is refused, and the
//! folder form has no limit.

use std::io::{self, Write};

/// Flag bit 11: names are UTF-8 (APPNOTE 4.4.4).
const UTF8_NAMES: u16 = 1 << 11;
/// 2.0: the version a stored file with a directory path needs.
const VERSION: u16 = 20;
/// Made by Unix (3), so that the permissions below are read.
const MADE_BY: u16 = (3 << 8) | VERSION;
/// A regular file, rw-r--r--, in the high half as Unix tools expect.
const FILE_MODE: u32 = 0o100_644 << 16;

/// One file already written, for the central directory.
struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

pub struct ZipWriter<W: Write> {
    out: W,
    written: u64,
    entries: Vec<Entry>,
    /// DOS time and date of every file (APPNOTE 4.4.6).
    time: u16,
    date: u16,
}

fn too_large(what: &str) -> io::Error {
    io::Error::other(format!(
        "the archive would hold {what}, more than a ZIP without ZIP64 can; export to a folder instead"
    ))
}

/// A UTC time in MS-DOS form: 2-second resolution, years from 1980.
pub fn dos_time(at: chrono::DateTime<chrono::Utc>) -> (u16, u16) {
    use chrono::{Datelike, Timelike};
    let pack = |v: u32| u16::try_from(v).unwrap_or(0);
    let time = pack((at.hour() << 11) | (at.minute() << 5) | (at.second() / 2));
    let year = u32::try_from(at.year().clamp(1980, 2107) - 1980).unwrap_or(0);
    let date = pack((year << 9) | (at.month() << 5) | at.day());
    (time, date)
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W, at: chrono::DateTime<chrono::Utc>) -> Self {
        let (time, date) = dos_time(at);
        ZipWriter {
            out,
            written: 0,
            entries: Vec::new(),
            time,
            date,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Adds a file under `name` (a relative path with `/`).
    pub fn add(&mut self, name: &str, content: &[u8]) -> io::Result<()> {
        if self.entries.len() >= usize::from(u16::MAX) {
            return Err(too_large("more than 65,535 files"));
        }
        let offset = u32::try_from(self.written).map_err(|_| too_large("over 4 GiB"))?;
        let size = u32::try_from(content.len()).map_err(|_| too_large("a file over 4 GiB"))?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_large("a name over 64 KiB"))?;
        let crc = crc32fast::hash(content);
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&UTF8_NAMES.to_le_bytes());
        header.extend_from_slice(&0_u16.to_le_bytes()); // stored
        header.extend_from_slice(&self.time.to_le_bytes());
        header.extend_from_slice(&self.date.to_le_bytes());
        header.extend_from_slice(&crc.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes()); // compressed
        header.extend_from_slice(&size.to_le_bytes()); // uncompressed
        header.extend_from_slice(&name_len.to_le_bytes());
        header.extend_from_slice(&0_u16.to_le_bytes()); // no extra field
        header.extend_from_slice(name.as_bytes());
        self.put(&header)?;
        self.put(content)?;
        if self.written > u64::from(u32::MAX) {
            return Err(too_large("over 4 GiB"));
        }
        self.entries.push(Entry {
            name: name.to_owned(),
            crc,
            size,
            offset,
        });
        Ok(())
    }

    /// Writes the central directory and the end record; returns the
    /// output and how many files it holds.
    pub fn finish(mut self) -> io::Result<(W, usize)> {
        let start = u32::try_from(self.written).map_err(|_| too_large("over 4 GiB"))?;
        let mut directory = Vec::new();
        for e in &self.entries {
            directory.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
            directory.extend_from_slice(&MADE_BY.to_le_bytes());
            directory.extend_from_slice(&VERSION.to_le_bytes());
            directory.extend_from_slice(&UTF8_NAMES.to_le_bytes());
            directory.extend_from_slice(&0_u16.to_le_bytes());
            directory.extend_from_slice(&self.time.to_le_bytes());
            directory.extend_from_slice(&self.date.to_le_bytes());
            directory.extend_from_slice(&e.crc.to_le_bytes());
            directory.extend_from_slice(&e.size.to_le_bytes());
            directory.extend_from_slice(&e.size.to_le_bytes());
            // Checked to fit when the file was added.
            let name_len = u16::try_from(e.name.len()).unwrap_or(u16::MAX);
            directory.extend_from_slice(&name_len.to_le_bytes());
            directory.extend_from_slice(&[0; 8]); // extra, comment, disk, internal
            directory.extend_from_slice(&FILE_MODE.to_le_bytes());
            directory.extend_from_slice(&e.offset.to_le_bytes());
            directory.extend_from_slice(e.name.as_bytes());
        }
        let size = u32::try_from(directory.len()).map_err(|_| too_large("over 4 GiB"))?;
        let count = u16::try_from(self.entries.len()).map_err(|_| too_large("too many files"))?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]); // this disk, the directory's disk
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&size.to_le_bytes());
        end.extend_from_slice(&start.to_le_bytes());
        end.extend_from_slice(&0_u16.to_le_bytes()); // no comment
        self.put(&directory)?;
        self.put(&end)?;
        if self.written > u64::from(u32::MAX) {
            return Err(too_large("over 4 GiB"));
        }
        self.out.flush()?;
        Ok((self.out, self.entries.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn dos_times_pack_as_the_format_says() {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 12, 7, 17, 45, 31)
            .unwrap();
        let (time, date) = dos_time(at);
        assert_eq!(time, (17 << 11) | (45 << 5) | 15);
        assert_eq!(date, (46 << 9) | (12 << 5) | 7);
    }

    #[test]
    fn an_archive_reads_back_through_its_directory() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap();
        let mut zip = ZipWriter::new(Vec::new(), at);
        zip.add("README.txt", b"123456789").unwrap();
        zip.add("tickets/SUP-1/pièce.txt", b"").unwrap();
        let (bytes, files) = zip.finish().unwrap();
        assert_eq!(files, 2);

        let end = bytes.len() - 22;
        assert_eq!(u32_at(&bytes, end), 0x0605_4b50);
        assert_eq!(u16_at(&bytes, end + 10), 2);
        let start = u32_at(&bytes, end + 16) as usize;
        assert_eq!(u32_at(&bytes, end + 12) as usize, end - start);

        // The first entry: the check value of CRC-32 is that of "123456789".
        assert_eq!(u32_at(&bytes, start), 0x0201_4b50);
        assert_eq!(u32_at(&bytes, start + 16), 0xCBF4_3926);
        assert_eq!(u32_at(&bytes, start + 24), 9);
        let local = u32_at(&bytes, start + 42) as usize;
        assert_eq!(local, 0);
        assert_eq!(u32_at(&bytes, local), 0x0403_4b50);
        assert_eq!(u16_at(&bytes, local + 6), UTF8_NAMES);
        let name_len = usize::from(u16_at(&bytes, local + 26));
        assert_eq!(&bytes[local + 30..local + 30 + name_len], b"README.txt");
        assert_eq!(
            &bytes[local + 30 + name_len..local + 30 + name_len + 9],
            b"123456789"
        );

        // The second, after the first's header and bytes, its name in UTF-8.
        let second = start + 46 + "README.txt".len();
        assert_eq!(u32_at(&bytes, second), 0x0201_4b50);
        let offset = u32_at(&bytes, second + 42) as usize;
        assert_eq!(offset, 30 + "README.txt".len() + 9);
        let name = "tickets/SUP-1/pièce.txt";
        assert_eq!(
            &bytes[offset + 30..offset + 30 + name.len()],
            name.as_bytes()
        );
        assert_eq!(u32_at(&bytes, second + 16), 0, "the CRC of nothing");
    }
}
