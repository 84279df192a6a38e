#define BOOST_TEST_MODULE kafka_settings
#include <boost/test/unit_test.hpp>

#include "cluster/kafka_settings.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace volley;

namespace {

cluster_config cluster_with(std::vector<std::pair<std::string, std::string>> kafka = {}) {
  cluster_config cluster;
  cluster.brokers = "127.0.0.1:9092";
  cluster.node = "node-a";
  cluster.kafka = std::move(kafka);
  return cluster;
}

// A property's value as librdkafka holds it in `conf`; "<unset>" for a
// string property never set.
std::string value_of(const rd_kafka_conf_t* conf, const char* name) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
    return "<unset>";
  return value;
}

// The settings' value for one client; fails the test when they are refused.
std::string setting(kafka_role role, const cluster_config& cluster, const char* name) {
  auto built = make_kafka_conf(role, cluster);
  for (const auto& error : built.errors)
    BOOST_FAIL(to_string(error));
  return value_of(built.conf.get(), name);
}

std::vector<std::string> lines_of(const std::vector<kafka_setting_error>& errors) {
  std::vector<std::string> lines;
  for (const auto& error : errors)
    lines.push_back(to_string(error));
  return lines;
}

} // namespace

BOOST_AUTO_TEST_CASE(producers_are_idempotent_with_acks_all) {
  for (auto role : {kafka_role::events_producer, kafka_role::changelog_producer}) {
    BOOST_TEST_CONTEXT(to_string(role)) {
      BOOST_TEST(setting(role, cluster_with(), "enable.idempotence") == "true");
      BOOST_TEST(setting(role, cluster_with(), "acks") == "-1"); // librdkafka's spelling of all
      BOOST_TEST(setting(role, cluster_with(), "bootstrap.servers") == "127.0.0.1:9092");
    }
  }
  // A produce answers within a bound; a state change never gives up.
  BOOST_TEST(setting(kafka_role::events_producer, cluster_with(), "message.timeout.ms") == "30000");
  BOOST_TEST(setting(kafka_role::changelog_producer, cluster_with(), "message.timeout.ms") == "0");
}

BOOST_AUTO_TEST_CASE(group_consumer_commits_by_hand_with_cooperative_sticky) {
  auto role = kafka_role::group_consumer;
  BOOST_TEST(setting(role, cluster_with(), "group.id") == "volley");
  BOOST_TEST(setting(role, cluster_with(), "partition.assignment.strategy") == "cooperative-sticky");
  BOOST_TEST(setting(role, cluster_with(), "enable.auto.commit") == "false");
  BOOST_TEST(setting(role, cluster_with(), "enable.auto.offset.store") == "false");
  BOOST_TEST(setting(role, cluster_with(), "auto.offset.reset") == "smallest"); // = earliest
}

BOOST_AUTO_TEST_CASE(restore_reader_has_no_group_and_sees_partition_ends) {
  BOOST_TEST(setting(kafka_role::restore_reader, cluster_with(), "group.id") == "<unset>");
  BOOST_TEST(setting(kafka_role::restore_reader, cluster_with(), "enable.partition.eof") == "true");
}

BOOST_AUTO_TEST_CASE(client_id_names_the_node_and_the_client) {
  BOOST_TEST(setting(kafka_role::changelog_producer, cluster_with(), "client.id") ==
             "node-a/changelog-producer");
  auto unnamed = cluster_with();
  unnamed.node.clear();
  BOOST_TEST(setting(kafka_role::group_consumer, unnamed, "client.id") ==
             default_node_name() + "/group-consumer");
}

BOOST_AUTO_TEST_CASE(default_node_name_is_host_and_pid) {
  std::string name = default_node_name();
  std::string pid = ":" + std::to_string(::getpid());
  BOOST_TEST(name.size() > pid.size());
  BOOST_TEST(name.substr(name.size() - pid.size()) == pid);
}

BOOST_AUTO_TEST_CASE(pass_through_properties_override_ours_where_they_apply) {
  auto cluster = cluster_with({{"linger.ms", "20"},
                               {"message.timeout.ms", "2000"},
                               {"session.timeout.ms", "6000"},
                               {"security.protocol", "plaintext"}});
  BOOST_TEST(validate_kafka_settings(cluster).empty());
  BOOST_TEST(setting(kafka_role::events_producer, cluster, "linger.ms") == "20");
  BOOST_TEST(setting(kafka_role::events_producer, cluster, "message.timeout.ms") == "2000");
  BOOST_TEST(setting(kafka_role::group_consumer, cluster, "session.timeout.ms") == "6000");
  BOOST_TEST(setting(kafka_role::restore_reader, cluster, "security.protocol") == "plaintext");
  // A consumer property stays out of the producers (librdkafka would warn).
  BOOST_TEST(setting(kafka_role::events_producer, cluster, "session.timeout.ms") == "45000");
}

BOOST_AUTO_TEST_CASE(unknown_property_is_refused_naming_the_key) {
  auto errors = validate_kafka_settings(cluster_with({{"no.such.thing", "1"}}));
  BOOST_TEST(lines_of(errors) ==
               std::vector<std::string>{
                 "cluster.kafka.no.such.thing: No such configuration property: \"no.such.thing\""},
             boost::test_tools::per_element());
  auto built = make_kafka_conf(kafka_role::events_producer, cluster_with({{"no.such.thing", "1"}}));
  BOOST_TEST(!built.conf);
  BOOST_TEST(built.errors.size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused_naming_each_key) {
  auto errors = validate_kafka_settings(
    cluster_with({{"linger.ms", "-5"}, {"session.timeout.ms", "abc"}, {"acks_", "x"}}));
  BOOST_TEST(lines_of(errors) ==
               (std::vector<std::string>{
                 "cluster.kafka.linger.ms: Configuration property \"queue.buffering.max.ms\" value "
                 "-5 is outside allowed range 0..900000",
                 "cluster.kafka.session.timeout.ms: Invalid value for configuration property "
                 "\"session.timeout.ms\"",
                 "cluster.kafka.acks_: No such configuration property: \"acks_\""}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(properties_volley_sets_itself_are_refused) {
  auto errors = validate_kafka_settings(cluster_with({{"enable.auto.commit", "true"},
                                                      {"group.id", "other"},
                                                      {"request.required.acks", "1"},
                                                      {"partition.assignment.strategy", "range"}}));
  BOOST_REQUIRE_EQUAL(errors.size(), 4u);
  BOOST_TEST(errors[0].key == "cluster.kafka.enable.auto.commit");
  BOOST_TEST(errors[0].message.find("only once the event's deliveries are durable") != std::string::npos);
  BOOST_TEST(errors[1].key == "cluster.kafka.group.id");
  BOOST_TEST(errors[1].message.find("cluster.group") != std::string::npos);
  BOOST_TEST(errors[2].key == "cluster.kafka.request.required.acks");
  BOOST_TEST(errors[3].key == "cluster.kafka.partition.assignment.strategy");
}

BOOST_AUTO_TEST_CASE(combinations_librdkafka_refuses_are_found_before_start) {
  // Each value is fine alone; an idempotent producer refuses it.
  auto errors = validate_kafka_settings(cluster_with({{"max.in.flight", "10"}}));
  BOOST_TEST(lines_of(errors) ==
               (std::vector<std::string>{
                 "cluster.kafka: librdkafka refuses these settings for the events-producer: "
                 "`max.in.flight` must be set <= 5 when `enable.idempotence` is true",
                 "cluster.kafka: librdkafka refuses these settings for the changelog-producer: "
                 "`max.in.flight` must be set <= 5 when `enable.idempotence` is true"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(validation_connects_to_nothing) {
  // A listening socket as the only broker: validation must leave no
  // connection waiting on it. It listens on a loopback address of its own
  // (all of 127/8 is loopback), where no other program on a shared machine
  // probes for free ports.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl((127u << 24) | ((static_cast<uint32_t>(::getpid()) & 0xffffu) << 8) | 7u);
  socklen_t length = sizeof(address);
  BOOST_REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  BOOST_REQUIRE(::listen(listener, 16) == 0);
  BOOST_REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  auto cluster = cluster_with();
  char host[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &address.sin_addr, host, sizeof(host));
  cluster.brokers = std::string(host) + ":" + std::to_string(ntohs(address.sin_port));

  BOOST_TEST(validate_kafka_settings(cluster).empty());

  int accepted = ::accept(listener, nullptr, nullptr);
  int accept_errno = errno;
  BOOST_TEST(accepted == -1);
  BOOST_TEST((accept_errno == EAGAIN || accept_errno == EWOULDBLOCK));
  if (accepted >= 0)
    ::close(accepted);
  ::close(listener);
}
