// The web dashboard's files compiled into the binary (src/server/web_assets.h) as the REST API
// serves them: every file of ui/ is embedded byte for byte (compared with the file on disk),
// with the Content-Type of its extension, an ETag that changes with the content and a 304 for a
// matching If-None-Match; "/" is index.html; unknown files, other methods and paths outside the
// dashboard are told apart; index.html and the modules' imports name only embedded files (no
// CDN).
#include "server/web_assets.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "re2/re2.h"
#include "server/pipelines.h"

namespace eddy::server {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

HttpRequest Get(const std::string& target, const std::string& if_none_match = "") {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  r.if_none_match = if_none_match;
  return r;
}

TEST(WebAssets, EveryFileOfWebIsEmbeddedByteForByte) {
  const std::filesystem::path web = std::filesystem::path(EDDY_SOURCE_DIR) / "ui";
  std::set<std::string> on_disk;
  for (const auto& e : std::filesystem::recursive_directory_iterator(web)) {
    if (!e.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(e.path(), web).generic_string();
    on_disk.insert("/ui/" + rel);
    const WebAsset* a = FindWebAsset("/ui/" + rel);
    ASSERT_NE(a, nullptr) << rel << " is not embedded";
    EXPECT_EQ(a->body, ReadFile(e.path())) << rel;
  }
  std::set<std::string> embedded;
  for (const WebAsset& a : WebAssets()) embedded.insert(std::string(a.path));
  EXPECT_EQ(embedded, on_disk);
  EXPECT_TRUE(on_disk.count("/ui/index.html"));
}

TEST(WebAssets, ContentTypesAndDistinctEtags) {
  std::set<std::string> etags;
  for (const WebAsset& a : WebAssets()) {
    std::string path(a.path);
    std::string want = path.ends_with(".js")     ? "text/javascript; charset=utf-8"
                       : path.ends_with(".css")  ? "text/css; charset=utf-8"
                       : path.ends_with(".html") ? "text/html; charset=utf-8"
                       : path.ends_with(".svg")  ? "image/svg+xml"
                                                 : std::string(a.content_type);
    EXPECT_EQ(a.content_type, want) << path;
    EXPECT_TRUE(RE2::FullMatch(a.etag, "\"[0-9a-f]{16}\"")) << a.etag;
    etags.insert(std::string(a.etag));
  }
  EXPECT_EQ(etags.size(), WebAssets().size()) << "two files share an ETag";
}

TEST(WebAssets, ServesIndexAtRootWithCachingAndSecurityHeaders) {
  HttpResponse r;
  ASSERT_TRUE(ServeDashboard(Get("/"), "/", &r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, ReadFile(std::filesystem::path(EDDY_SOURCE_DIR) / "ui/index.html"));
  EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(r, "ETag"), FindWebAsset("/ui/index.html")->etag);
  EXPECT_NE(Header(r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
}

TEST(WebAssets, IfNoneMatchGives304WithoutBody) {
  const WebAsset* a = FindWebAsset("/ui/app.js");
  ASSERT_NE(a, nullptr);
  std::string etag(a->etag);
  for (const std::string& header : {etag, "\"x\", " + etag, "W/" + etag, std::string("*")}) {
    HttpResponse r;
    ASSERT_TRUE(ServeDashboard(Get("/ui/app.js", header), "/ui/app.js", &r));
    EXPECT_EQ(r.status, 304) << header;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(Header(r, "ETag"), etag);
  }
  HttpResponse r;
  ASSERT_TRUE(ServeDashboard(Get("/ui/app.js", "\"0000000000000000\""), "/ui/app.js", &r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, a->body);
}

TEST(WebAssets, UnknownFilesMethodsAndOtherPaths) {
  HttpResponse r;
  EXPECT_TRUE(ServeDashboard(Get("/ui/nope.js"), "/ui/nope.js", &r));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(ServeDashboard(Get("/ui/../CMakeLists.txt"), "/ui/../CMakeLists.txt", &r));
  EXPECT_EQ(r.status, 404);
  HttpRequest post = Get("/");
  post.method = "POST";
  EXPECT_TRUE(ServeDashboard(post, "/", &r));
  EXPECT_EQ(r.status, 405);
  EXPECT_FALSE(ServeDashboard(Get("/v1/pipelines"), "/v1/pipelines", &r));
  EXPECT_FALSE(ServeDashboard(Get("/uix"), "/uix", &r));
}

TEST(WebAssets, RestApiRoutesTheDashboardAndKeepsItsOwnRoutes) {
  Pipelines pipelines;
  RestApi api(&pipelines, nullptr);
  HttpResponse index = api.Handle(Get("/?x=1"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  HttpResponse css = api.Handle(Get("/ui/style.css"));
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  HttpResponse list = api.Handle(Get("/v1/pipelines"));
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.content_type, "application/json");
  EXPECT_EQ(api.Handle(Get("/nope")).status, 404);
}

TEST(WebAssets, IndexNamesOnlyEmbeddedFilesOfItsOwnOrigin) {
  std::string index(FindWebAsset("/")->body);
  // RE2, not std::regex: GCC 12's std::regex trips -Wmaybe-uninitialized in the ASan build.
  const RE2 ref("(?:src|href)=\"([^\"#]+)\"");
  int refs = 0;
  re2::StringPiece input(index);
  std::string url;
  while (RE2::FindAndConsume(&input, ref, &url)) {
    EXPECT_NE(FindWebAsset(url), nullptr) << url << " is not an embedded file";
    ++refs;
  }
  EXPECT_GE(refs, 3);  // the icon, the style sheet and the script
}

// Every `import ... from './x.js'` of every module names an embedded file (relative to its own).
TEST(WebAssets, ModuleImportsResolveToEmbeddedFiles) {
  const RE2 import_re("from '(\\.{1,2}/[^']+)'");
  int imports = 0;
  for (const WebAsset& a : WebAssets()) {
    if (!a.path.ends_with(".js")) continue;
    std::string body(a.body);
    std::filesystem::path dir = std::filesystem::path(std::string(a.path)).parent_path();
    re2::StringPiece input(body);
    std::string rel;
    while (RE2::FindAndConsume(&input, import_re, &rel)) {
      std::string target = (dir / rel).lexically_normal().generic_string();
      EXPECT_NE(FindWebAsset(target), nullptr) << a.path << " imports " << rel;
      ++imports;
    }
  }
  EXPECT_GE(imports, 10);
}

}  // namespace
}  // namespace eddy::server
