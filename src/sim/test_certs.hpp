#pragma once
// Test certificates for the simulated exchange's wss/https: a throwaway CA and a
// server certificate for localhost / 127.0.0.1 signed by it, generated with the
// OpenSSL API at start. Clients trust `ca.pem` only. Pure function over files,
// any thread.

#include <string>

#include "common/result.hpp"

namespace af::sim {

struct TestCertFiles {
  std::string ca_cert;      // DIR/ca.pem
  std::string server_cert;  // DIR/server.pem (server certificate, then the CA)
  std::string server_key;   // DIR/server.key (PKCS#8 PEM, unencrypted)
};

// Writes a new CA and server certificate (EC P-256, valid from one day ago for
// 30 days) into `dir` (created if needed), replacing older files.
Result<TestCertFiles> generate_test_certs(const std::string& dir);

}  // namespace af::sim
