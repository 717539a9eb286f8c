#include "formats/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/row_decoder.h"
#include "types/value.h"

namespace eddy {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "eddy_formats_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WritePlain(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
}

void WriteGzip(const std::string& path, const std::string& content) {
  gzFile g = gzopen(path.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(gzwrite(g, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  gzclose(g);
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct Record {
  std::string text;
  size_t line;
};

// Reads the whole file through LineSource and splits the chunks into records.
std::vector<Record> ReadRecords(const std::string& path, size_t chunk, bool csv,
                                size_t* chunks = nullptr) {
  auto src = LineSource::Open(path, chunk, csv);
  EXPECT_TRUE(src.ok()) << src.status();
  std::vector<Record> out;
  TextChunk chunk_out;
  size_t n = 0;
  size_t expected_first = 1;
  for (;;) {
    auto more = (*src)->NextChunk(&chunk_out);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    EXPECT_FALSE(chunk_out.oversized);
    const auto& data = chunk_out.data;
    const size_t size = chunk_out.size, first = chunk_out.first_line;
    ++n;
    EXPECT_EQ(first, expected_first);
    EXPECT_GT(size, 0u);
    auto add = [&](std::string_view rec, size_t index) {
      out.push_back({std::string(rec), first + index});
    };
    if (csv) {
      ForEachCsvRecord(data.get(), size, add);
    } else {
      ForEachLine(data.get(), size, add);
    }
    for (size_t i = 0; i < size; ++i) expected_first += data[i] == '\n';
  }
  EXPECT_EQ((*src)->bytes_read(), (*src)->total_bytes());
  if (chunks) *chunks = n;
  return out;
}

std::string Lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "row " + std::to_string(i) + ",value\n";
  return s;
}

TEST(LineSourceTest, PlainFileTinyChunksEveryLineOnceInOrder) {
  TempDir dir;
  const std::string content = Lines(200);
  WritePlain(dir.File("a.csv"), content);
  for (size_t chunk : {1, 7, 13, 64, 1 << 20}) {
    size_t chunks = 0;
    auto recs = ReadRecords(dir.File("a.csv"), chunk, false, &chunks);
    ASSERT_EQ(recs.size(), 200u) << chunk;
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(recs[i].text, "row " + std::to_string(i + 1) + ",value");
      EXPECT_EQ(recs[i].line, static_cast<size_t>(i + 1));
    }
    if (chunk == 7) {
      EXPECT_GT(chunks, 100u);
    }
  }
}

TEST(LineSourceTest, GzipFileTinyChunks) {
  TempDir dir;
  const std::string content = Lines(500);
  WriteGzip(dir.File("a.csv.gz"), content);
  auto src = LineSource::Open(dir.File("a.csv.gz"), 7);
  ASSERT_TRUE(src.ok());
  EXPECT_TRUE((*src)->compressed());
  auto recs = ReadRecords(dir.File("a.csv.gz"), 7, true);
  ASSERT_EQ(recs.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(recs[i].text, "row " + std::to_string(i + 1) + ",value");
    EXPECT_EQ(recs[i].line, static_cast<size_t>(i + 1));
  }
}

TEST(LineSourceTest, LastLineWithoutNewlineAndCrLf) {
  TempDir dir;
  WritePlain(dir.File("a"), "a\r\nb\r\n\r\nc");
  auto recs = ReadRecords(dir.File("a"), 3, true);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].text, "a");
  EXPECT_EQ(recs[1].text, "b");
  EXPECT_EQ(recs[2].text, "");
  EXPECT_EQ(recs[3].text, "c");
  EXPECT_EQ(recs[3].line, 4u);
  WritePlain(dir.File("empty"), "");
  EXPECT_TRUE(ReadRecords(dir.File("empty"), 3, true).empty());
}

TEST(LineSourceTest, QuotedNewlinesStayInOneRecord) {
  TempDir dir;
  std::string content;
  std::vector<std::string> want;
  for (int i = 0; i < 50; ++i) {
    std::string rec = i % 3 == 0
                          ? "id" + std::to_string(i) + ",\"multi\nline, \"\"quoted\"\"\n\"" + ",end"
                          : "id" + std::to_string(i) + ",plain,x\"y";
    want.push_back(rec);
    content += rec + "\n";
  }
  WritePlain(dir.File("q.csv"), content);
  WriteGzip(dir.File("q.csv.gz"), content);
  for (const char* name : {"q.csv", "q.csv.gz"}) {
    for (size_t chunk : {1, 7, 30, 1 << 20}) {
      auto recs = ReadRecords(dir.File(name), chunk, true);
      ASSERT_EQ(recs.size(), want.size()) << name << " " << chunk;
      size_t line = 1;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(recs[i].text, want[i]);
        EXPECT_EQ(recs[i].line, line);
        line += 1 + std::count(want[i].begin(), want[i].end(), '\n');
      }
    }
  }
}

TEST(LineSourceTest, MultiMemberGzip) {
  TempDir dir;
  WriteGzip(dir.File("a.gz"), "one\ntwo\n");
  WriteGzip(dir.File("b.gz"), "three\n");
  std::string both = ReadAll(dir.File("a.gz")) + ReadAll(dir.File("b.gz"));
  WritePlain(dir.File("ab.gz"), both);
  auto recs = ReadRecords(dir.File("ab.gz"), 4, false);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].text, "three");
}

TEST(LineSourceTest, CorruptAndTruncatedGzip) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i * 7919 % 10007) + "\n";
  WriteGzip(dir.File("ok.gz"), content);
  std::string gz = ReadAll(dir.File("ok.gz"));
  WritePlain(dir.File("trunc.gz"), gz.substr(0, gz.size() / 2));
  std::string bad = gz;
  for (size_t i = 100; i < 140; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  WritePlain(dir.File("bad.gz"), bad);
  for (const char* name : {"trunc.gz", "bad.gz"}) {
    auto src = LineSource::Open(dir.File(name), 1 << 10);
    ASSERT_TRUE(src.ok());
    TextChunk chunk;
    absl::Status err;
    for (;;) {
      auto more = (*src)->NextChunk(&chunk);
      if (!more.ok()) {
        err = more.status();
        break;
      }
      if (!*more) break;
    }
    ASSERT_FALSE(err.ok()) << name;
    EXPECT_NE(std::string(err.message()).find(dir.File(name) + ": gzip stream is corrupt at byte"),
              std::string::npos)
        << err;
  }
}

TEST(LineSourceTest, OpenErrors) {
  auto r = LineSource::Open("/nonexistent/file.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(r.status().message()).find("/nonexistent/file.csv"), std::string::npos);
}

// Reads the whole file with a record limit: records in order with their line, every record
// longer than `max_record` (an `oversized` chunk, or a long record inside a chunk) as
// "<too long>". Checks that no chunk is larger than the documented bound.
std::vector<Record> ReadBounded(const std::string& path, size_t chunk, size_t max_record, bool csv,
                                size_t* steps = nullptr) {
  auto src = LineSource::Open(path, chunk, csv, CsvFraming{}, max_record);
  EXPECT_TRUE(src.ok()) << src.status();
  std::vector<Record> out;
  TextChunk c;
  size_t n = 0;
  // The documented bound (+3 for the bytes read while looking for a byte order mark).
  const size_t bound = std::max({chunk, max_record + 2, size_t{64} << 10}) + chunk + 3;
  for (;;) {
    auto more = (*src)->NextChunk(&c);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    ++n;
    EXPECT_LE(c.size, bound) << "chunk " << n;
    if (c.oversized) {
      EXPECT_LE(c.size, kOversizedPrefixBytes);
      out.push_back({"<too long>", c.first_line});
      continue;
    }
    auto add = [&](std::string_view rec, size_t index) {
      out.push_back(
          {rec.size() > max_record ? "<too long>" : std::string(rec), c.first_line + index});
    };
    if (c.size == 0) continue;
    if (csv) {
      ForEachCsvRecord(c.data.get(), c.size, add);
    } else {
      ForEachLine(c.data.get(), c.size, add);
    }
  }
  if (steps) *steps = n;
  return out;
}

std::string Show(const std::vector<Record>& recs) {
  std::string s;
  for (const auto& r : recs) s += std::to_string(r.line) + ":" + r.text.substr(0, 20) + " ";
  return s;
}

TEST(LineSourceTest, ByteOrderMarkSkippedOnlyAtTheStartOfTheFile) {
  TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  const std::string content = bom + "id,name\n1,a\n" + bom + "2,b\n3,c\n";
  WritePlain(dir.File("bom.csv"), content);
  WriteGzip(dir.File("bom.csv.gz"), content);
  for (const char* name : {"bom.csv", "bom.csv.gz"}) {
    for (size_t chunk : {1, 2, 3, 4, 7, 1 << 20}) {
      for (bool csv : {true, false}) {
        auto recs = ReadRecords(dir.File(name), chunk, csv);
        ASSERT_EQ(recs.size(), 4u) << name << " " << chunk;
        EXPECT_EQ(recs[0].text, "id,name") << name << " " << chunk;
        EXPECT_EQ(recs[0].line, 1u);
        EXPECT_EQ(recs[1].text, "1,a");
        EXPECT_EQ(recs[2].text, bom + "2,b");  // not at byte 0: data
        EXPECT_EQ(recs[2].line, 3u);
        EXPECT_EQ(recs[3].text, "3,c");
      }
    }
  }
  // Only a BOM, a BOM cut short, and a BOM-like start that differs.
  WritePlain(dir.File("only"), bom);
  EXPECT_TRUE(ReadRecords(dir.File("only"), 2, true).empty());
  WritePlain(dir.File("short"), "\xEF\xBB");
  auto recs = ReadRecords(dir.File("short"), 1, true);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].text, "\xEF\xBB");
  WritePlain(dir.File("other"), "\xEF\xBB\xBEx\n");
  recs = ReadRecords(dir.File("other"), 1, true);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].text, "\xEF\xBB\xBEx");
}

TEST(LineSourceTest, RecordsOverTheLimitAreReportedOnceAndReadingGoesOn) {
  TempDir dir;
  // Line 2 (1000 bytes) and line 5 (101 bytes) are over a limit of 100 bytes; line 4 is exactly
  // 100 bytes plus "\r" and is not.
  const std::string content = "a\n" + std::string(1000, 'x') + "\nb\n" + std::string(100, 'y') +
                              "\r\n" + std::string(101, 'z') + "\nc";
  WritePlain(dir.File("long.txt"), content);
  WriteGzip(dir.File("long.txt.gz"), content);
  const std::vector<Record> want = {{"a", 1},          {"<too long>", 2},
                                    {"b", 3},          {std::string(100, 'y'), 4},
                                    {"<too long>", 5}, {"c", 6}};
  for (const char* name : {"long.txt", "long.txt.gz"}) {
    for (size_t chunk : {1, 7, 64, 100, 101, 102, 333, 4096}) {
      for (bool csv : {false, true}) {
        auto got = ReadBounded(dir.File(name), chunk, 100, csv);
        ASSERT_EQ(got.size(), want.size()) << name << " chunk " << chunk << ": " << Show(got);
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_EQ(got[i].text, want[i].text) << name << " chunk " << chunk << " record " << i;
          EXPECT_EQ(got[i].line, want[i].line) << name << " chunk " << chunk << " record " << i;
        }
      }
    }
  }
}

TEST(LineSourceTest, FileWithoutNewlineStopsAtTheLimit) {
  TempDir dir;
  WritePlain(dir.File("zeros"), std::string(3 << 20, '\0'));
  size_t steps = 0;
  auto got = ReadBounded(dir.File("zeros"), 4096, 1024, false, &steps);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "<too long>");
  EXPECT_EQ(got[0].line, 1u);
  // The rest is skipped in steps of at most 64 KiB (here) that each return.
  EXPECT_GE(steps, (3u << 20) / (64u << 10));

  // /dev/zero never ends: the first step reports the record, each later step returns at once.
  auto src = LineSource::Open("/dev/zero", 4096, false, CsvFraming{}, 1024);
  ASSERT_TRUE(src.ok()) << src.status();
  TextChunk c;
  auto more = (*src)->NextChunk(&c);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_TRUE(c.oversized);
  EXPECT_EQ(c.first_line, 1u);
  EXPECT_GT(c.size, 0u);
  EXPECT_LE(c.size, kOversizedPrefixBytes);
  for (int i = 0; i < 20; ++i) {
    more = (*src)->NextChunk(&c);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_FALSE(c.oversized);
    EXPECT_EQ(c.size, 0u);
  }
}

TEST(LineSourceTest, UnbalancedQuoteIsCutAtPlainNewlinesPastTheLimit) {
  TempDir dir;
  std::string content = "1,\"open\n";
  for (int i = 2; i <= 300; ++i) content += std::to_string(i) + ",row\n";
  WritePlain(dir.File("q.csv"), content);
  for (size_t chunk : {16, 64, 256}) {
    auto got = ReadBounded(dir.File("q.csv"), chunk, 100, true);
    // The quote swallows lines only up to the end of its chunk (the file is many chunks long);
    // the last line is read on its own.
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back().text, "300,row") << chunk;
    EXPECT_EQ(got.back().line, 300u) << chunk;
  }
}

TEST(ForEachLineTest, StopsEarlyAndGivesIndexes) {
  const std::string s = "a\nb\nc\n";
  std::vector<std::string> seen;
  ForEachLine(s.data(), s.size(), [&](std::string_view l) {
    seen.emplace_back(l);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  std::vector<size_t> idx;
  ForEachLine(s.data(), s.size(), [&](std::string_view, size_t i) { idx.push_back(i); });
  EXPECT_EQ(idx, (std::vector<size_t>{0, 1, 2}));
}

TEST(ForEachCsvRecordTest, CustomFramingAndUnterminatedQuote) {
  const std::string s = "a;'x\ny';b\n'open\nrest\n";
  std::vector<std::string> recs;
  ForEachCsvRecord(
      s.data(), s.size(), [&](std::string_view r) { recs.emplace_back(r); },
      CsvFraming{';', '\'', '\0'});
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0], "a;'x\ny';b");
  EXPECT_EQ(recs[1], "'open\nrest\n");  // unterminated: the rest of the chunk
}

TEST(ExpandPathTest, FileDirectoryAndGlob) {
  TempDir dir;
  WritePlain(dir.File("b.csv"), "x\n");
  WritePlain(dir.File("a.csv"), "x\n");
  WritePlain(dir.File("c.json"), "x\n");
  WritePlain(dir.File(".hidden"), "x\n");
  WritePlain(dir.File("_SUCCESS"), "");
  fs::create_directory(dir.File("sub"));
  WritePlain(dir.File("sub/d.csv"), "x\n");
  fs::create_directory(dir.File("_tmp"));
  WritePlain(dir.File("_tmp/e.csv"), "x\n");

  auto one = ExpandPath(dir.File("a.csv"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<std::string>{dir.File("a.csv")});

  auto all = ExpandPath(dir.path());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, (std::vector<std::string>{dir.File("a.csv"), dir.File("b.csv"),
                                            dir.File("c.json"), dir.File("sub/d.csv")}));

  auto glob = ExpandPath(dir.File("*.csv"));
  ASSERT_TRUE(glob.ok());
  EXPECT_EQ(*glob, (std::vector<std::string>{dir.File("a.csv"), dir.File("b.csv")}));

  auto none = ExpandPath(dir.File("*.parquet"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(none.status().message()).find("*.parquet"), std::string::npos);
  auto missing = ExpandPath(dir.File("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

#ifdef EDDY_SOURCE_DIR
// The shipped flights file decodes completely, chunk by chunk.
TEST(FlightsFileTest, DecodesAllRows) {
  const std::string path = std::string(EDDY_SOURCE_DIR) + "/examples/data/flights-2001-01.csv.gz";
  if (!fs::exists(path)) GTEST_SKIP() << path << " not present";
  Schema s;
  s.fields = {{"date", DataType::Timestamp(3)},
              {"delay", DataType::Int()},
              {"distance", DataType::Int()},
              {"origin", DataType::String()},
              {"destination", DataType::String()}};
  auto dec = MakeCsvDecoder(s, CsvOptions{});
  ASSERT_TRUE(dec.ok());
  auto src = LineSource::Open(path, 1 << 20);
  ASSERT_TRUE(src.ok());
  size_t rows = 0, errors = 0;
  TextChunk chunk;
  Batch first_batch;
  while (true) {
    auto more = (*src)->NextChunk(&chunk);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    auto& data = chunk.data;
    const size_t size = chunk.size, first = chunk.first_line;
    Batch b = Batch::Empty(s);
    Arena* arena = b.NewArena();
    DecodeError err;
    ForEachCsvRecord(data.get(), size, [&](std::string_view rec, size_t index) {
      if (first + index == 1) {
        EXPECT_EQ(rec, "date,delay,distance,origin,destination");
        return;
      }
      if (!(*dec)->Decode(rec, &b, arena, &err)) ++errors;
    });
    b.arenas.front()->Adopt(std::move(data));  // views point into the chunk
    rows += b.num_rows();
    if (first == 1) first_batch = std::move(b);
  }
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(rows, 508239u);
  ASSERT_GT(first_batch.num_rows(), 0u);
  EXPECT_EQ(FormatCell(first_batch.columns[0], 0), "2001-01-01 00:01:00.000");
  EXPECT_EQ(first_batch.columns[1].i64[0], 33);
  EXPECT_EQ(first_batch.columns[2].i64[0], 2176);
  EXPECT_EQ(first_batch.columns[3].str[0], "LAS");
  EXPECT_EQ(first_batch.columns[4].str[0], "PHL");
  EXPECT_EQ((*src)->bytes_read(), (*src)->total_bytes());
}
#endif

}  // namespace
}  // namespace eddy
