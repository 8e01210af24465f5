//! The detection engines that raise alerts, and the alert categories.

crate::named_enum! {
    /// Which engine raised an alert. `MicroAgent` is the engine value of alerts
    /// that come from outside the sensor (agents, third-party sources).
    pub enum Engine: "engine" {
        /// Packet structure or field values violate the protocol specification.
        ProtocolViolation = "Protocol Violation" | "PROTOCOL_VIOLATION" | "protocol_violation" | "protocol",
        /// Deviation from the learned or configured baseline.
        PolicyViolation = "Policy Violation" | "POLICY_VIOLATION" | "policy_violation" | "policy",
        /// Known malware behaviour and indicators of compromise.
        Malware = "Malware" | "MALWARE",
        /// Unusual machine-to-machine behaviour: rates, scans, brute force.
        Anomaly = "Anomaly" | "ANOMALY",
        /// Operational incidents: stops, restarts, failures, unresponsive devices.
        Operational = "Operational" | "OPERATIONAL",
        /// Alerts ingested from agents and other external sources.
        MicroAgent = "Micro-agent" | "MICRO_AGENT" | "micro_agent" | "microagent",
    }
}

impl Engine {
    /// The upper-case spelling used by syslog, Sentinel and the console API.
    pub fn api_name(self) -> &'static str {
        match self {
            Engine::ProtocolViolation => "PROTOCOL_VIOLATION",
            Engine::PolicyViolation => "POLICY_VIOLATION",
            Engine::Malware => "MALWARE",
            Engine::Anomaly => "ANOMALY",
            Engine::Operational => "OPERATIONAL",
            Engine::MicroAgent => "MICRO_AGENT",
        }
    }

    /// The snake_case key used in configuration (`detect.engines.<key>`).
    pub fn config_key(self) -> &'static str {
        match self {
            Engine::ProtocolViolation => "protocol_violation",
            Engine::PolicyViolation => "policy_violation",
            Engine::Malware => "malware",
            Engine::Anomaly => "anomaly",
            Engine::Operational => "operational",
            Engine::MicroAgent => "micro_agent",
        }
    }
}

crate::named_enum! {
    /// Alert categories ("alert groups" in syslog), reference §1.6.
    pub enum Category: "category" {
        /// Abnormal Communication Behavior.
        AbnormalCommunicationBehavior = "Abnormal Communication Behavior" | "ACB",
        /// Abnormal HTTP Communication Behavior.
        AbnormalHttpCommunicationBehavior = "Abnormal HTTP Communication Behavior" | "AHCB",
        /// Authentication.
        Authentication = "Authentication",
        /// Backup.
        Backup = "Backup",
        /// Bandwidth Anomalies.
        BandwidthAnomalies = "Bandwidth Anomalies",
        /// Buffer overflow.
        BufferOverflow = "Buffer overflow",
        /// Command Failures.
        CommandFailures = "Command Failures" | "CF",
        /// Configuration changes.
        ConfigurationChanges = "Configuration changes" | "CC",
        /// Custom Alerts.
        CustomAlerts = "Custom Alerts",
        /// Discovery.
        Discovery = "Discovery",
        /// Firmware change.
        FirmwareChange = "Firmware change" | "FC",
        /// Illegal commands.
        IllegalCommands = "Illegal commands" | "IC",
        /// Internet Access.
        InternetAccess = "Internet Access",
        /// Operation Failures.
        OperationFailures = "Operation Failures",
        /// Operational issues.
        OperationalIssues = "Operational issues" | "OI",
        /// Programming.
        Programming = "Programming",
        /// Remote access.
        RemoteAccess = "Remote access",
        /// Restart/Stop Commands.
        RestartStopCommands = "Restart/Stop Commands" | "R/S",
        /// Scan.
        Scan = "Scan",
        /// Sensor traffic.
        SensorTraffic = "Sensor traffic",
        /// Suspicion of malicious activity.
        SuspicionOfMaliciousActivity = "Suspicion of malicious activity" | "SoMA",
        /// Suspicion of Malware.
        SuspicionOfMalware = "Suspicion of Malware" | "SoM",
        /// Unauthorized Communication Behavior.
        UnauthorizedCommunicationBehavior = "Unauthorized Communication Behavior" | "UCB",
        /// Unresponsive.
        Unresponsive = "Unresponsive",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_accept_api_spellings() {
        assert_eq!(Engine::parse("POLICY_VIOLATION").unwrap(), Engine::PolicyViolation);
        assert_eq!(Engine::parse("policy violation").unwrap(), Engine::PolicyViolation);
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.api_name()).unwrap(), *e);
            assert_eq!(Engine::parse(e.config_key()).unwrap(), *e);
        }
    }

    #[test]
    fn twenty_four_categories() {
        assert_eq!(Category::ALL.len(), 24);
        assert_eq!(Category::parse("UCB").unwrap(), Category::UnauthorizedCommunicationBehavior);
    }
}
