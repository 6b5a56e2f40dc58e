/*
*********************************************************************
A small classicmodels-compatible dump written for the lab's tests.
Same DDL and file layout as the public mysqlsampledatabase.sql (SQLyog
style: conditional comments, CREATE DATABASE, USE, `insert  into`), with
a few dozen rows that carry every quirk the ETL must survive:
- postal code 94217 used by two cities (San Francisco, Burlingame);
- postal code 3004 used in two countries (Melbourne AU, Bern CH);
- NULL postal codes (Auckland, Hong Kong, Cork);
- stray spaces: 'Norway  ', 'Auckland  ', ' 530-0003';
- customers with no orders (110, 113), NULL sales rep (110, 112), zero
  credit limit with and without a rep (105, 110);
- NULL shippedDate for Cancelled, On Hold and In Process orders;
- strings holding ; ' " \ tabs, newlines, -- /* # (not comments!).
*********************************************************************
*/

/*!40101 SET NAMES utf8 */;

/*!40101 SET SQL_MODE=''*/;

/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
CREATE DATABASE /*!32312 IF NOT EXISTS*/`classicmodels` /*!40100 DEFAULT CHARACTER SET latin1 */;

USE `classicmodels`;

/*Table structure for table `customers` */

DROP TABLE IF EXISTS `customers`;

CREATE TABLE `customers` (
  `customerNumber` int(11) NOT NULL,
  `customerName` varchar(50) NOT NULL,
  `contactLastName` varchar(50) NOT NULL,
  `contactFirstName` varchar(50) NOT NULL,
  `phone` varchar(50) NOT NULL,
  `addressLine1` varchar(50) NOT NULL,
  `addressLine2` varchar(50) DEFAULT NULL,
  `city` varchar(50) NOT NULL,
  `state` varchar(50) DEFAULT NULL,
  `postalCode` varchar(15) DEFAULT NULL,
  `country` varchar(50) NOT NULL,
  `salesRepEmployeeNumber` int(11) DEFAULT NULL,
  `creditLimit` decimal(10,2) DEFAULT NULL,
  PRIMARY KEY (`customerNumber`),
  KEY `salesRepEmployeeNumber` (`salesRepEmployeeNumber`),
  CONSTRAINT `customers_ibfk_1` FOREIGN KEY (`salesRepEmployeeNumber`) REFERENCES `employees` (`employeeNumber`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `customers` */

insert  into `customers`(`customerNumber`,`customerName`,`contactLastName`,`contactFirstName`,`phone`,`addressLine1`,`addressLine2`,`city`,`state`,`postalCode`,`country`,`salesRepEmployeeNumber`,`creditLimit`) values 

(101,'Bay Area Gifts','Young','Jeff','4155551450','5677 Strong St.',NULL,'San Francisco','CA','94217','USA',1165,'210500.00'),

(102,'Burlingame Toys','Frick','Sue','6505556809','9408 Furth Circle','Suite 400','Burlingame','CA','94217','USA',1165,'84600.00'),

(103,'Bridgewater Replicas','King','Julie','2035552570','25593 South Bay Ln.',NULL,'Bridgewater','CT','97562','USA',1165,'84300.00'),

(104,'Melbourne Minis','Ferguson','Peter','03 9520 4555','636 St Kilda Road','Level 3','Melbourne','Victoria','3004','Australia',1370,'117300.00'),

(105,'Bern Modelle AG','Braun','Urs','0452-076555','Hauptstr. 29',NULL,'Bern',NULL,'3004','Switzerland',1370,'0.00'),

(106,'Auckland Collectables','Graham','Mike','+64 9 312 5555','162-164 Grafton Road','Level 2','Auckland  ',NULL,NULL,'New Zealand',1370,'88000.00'),

(107,'Kowloon Diecast','Gao','Mike','+852 2251 1555','Bank of China Tower','1 Garden Road','Central Hong Kong',NULL,NULL,'Hong Kong',1370,'58600.00'),

(108,'Kelly\'s Gift Shop','Snowden','Tony','+47 2212 1555','Drammensveien 126A','PB 211 Sentrum','Oslo',NULL,'N 0106','Norway  ',1370,'95100.00'),

(109,'Semi; Colon Imports','Lebihan','Laurence ','91.24.4555','12, rue des Bouchers',NULL,'Paris',NULL,'75016','France',1370,'65000.00'),

(110,'Never Ordered Ltd.','Andersen','Mel','030-0074555','Obere Str. 57',NULL,'Berlin',NULL,'12209','Germany',NULL,'0.00'),

(111,'Osaka Souvenirs','Kentary','Mory','+81 06 6342 5555','1-6-20 Dojima',NULL,'Kita-ku','Osaka',' 530-0003','Japan',1165,'81200.00'),

(112,'Cork Corner','McKenna','Patricia ','2967 555','8 Johnstown Road',NULL,'Cork','Co. Cork',NULL,'Ireland',NULL,'25000.00'),

(113,'Münster Modellbau','Müller','Jörg','0251-555259','Luisenstr. 48',NULL,'Münster',NULL,'44087','Germany',1370,'41900.00');

/*Table structure for table `employees` */

DROP TABLE IF EXISTS `employees`;

CREATE TABLE `employees` (
  `employeeNumber` int(11) NOT NULL,
  `lastName` varchar(50) NOT NULL,
  `firstName` varchar(50) NOT NULL,
  `extension` varchar(10) NOT NULL,
  `email` varchar(100) NOT NULL,
  `officeCode` varchar(10) NOT NULL,
  `reportsTo` int(11) DEFAULT NULL,
  `jobTitle` varchar(50) NOT NULL,
  PRIMARY KEY (`employeeNumber`),
  KEY `reportsTo` (`reportsTo`),
  KEY `officeCode` (`officeCode`),
  CONSTRAINT `employees_ibfk_1` FOREIGN KEY (`reportsTo`) REFERENCES `employees` (`employeeNumber`),
  CONSTRAINT `employees_ibfk_2` FOREIGN KEY (`officeCode`) REFERENCES `offices` (`officeCode`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `employees` */

insert  into `employees`(`employeeNumber`,`lastName`,`firstName`,`extension`,`email`,`officeCode`,`reportsTo`,`jobTitle`) values 

(1002,'Abbott','Ada','x5800','aabbott@classicmodelcars.com','1',NULL,'President'),

(1102,'Dubois','Hugo','x5408','hdubois@classicmodelcars.com','4',1002,'Sale Manager (EMEA)'),

(1165,'Jansen','Liam','x3291','ljansen@classicmodelcars.com','1',1002,'Sales Rep'),

(1370,'O\'Neill','Maren','x2028','moneill@classicmodelcars.com','4',1102,'Sales Rep');

/*Table structure for table `offices` */

DROP TABLE IF EXISTS `offices`;

CREATE TABLE `offices` (
  `officeCode` varchar(10) NOT NULL,
  `city` varchar(50) NOT NULL,
  `phone` varchar(50) NOT NULL,
  `addressLine1` varchar(50) NOT NULL,
  `addressLine2` varchar(50) DEFAULT NULL,
  `state` varchar(50) DEFAULT NULL,
  `country` varchar(50) NOT NULL,
  `postalCode` varchar(15) NOT NULL,
  `territory` varchar(10) NOT NULL,
  PRIMARY KEY (`officeCode`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `offices` */

insert  into `offices`(`officeCode`,`city`,`phone`,`addressLine1`,`addressLine2`,`state`,`country`,`postalCode`,`territory`) values 

('1','San Francisco','+1 650 219 4782','100 Market Street','Suite 300','CA','USA','94080','NA'),

('4','Paris','+33 14 723 4404','43 Rue Jouffroy D\'abbans',NULL,NULL,'France','75017','EMEA');

/*Table structure for table `orderdetails` */

DROP TABLE IF EXISTS `orderdetails`;

CREATE TABLE `orderdetails` (
  `orderNumber` int(11) NOT NULL,
  `productCode` varchar(15) NOT NULL,
  `quantityOrdered` int(11) NOT NULL,
  `priceEach` decimal(10,2) NOT NULL,
  `orderLineNumber` smallint(6) NOT NULL,
  PRIMARY KEY (`orderNumber`,`productCode`),
  KEY `productCode` (`productCode`),
  CONSTRAINT `orderdetails_ibfk_1` FOREIGN KEY (`orderNumber`) REFERENCES `orders` (`orderNumber`),
  CONSTRAINT `orderdetails_ibfk_2` FOREIGN KEY (`productCode`) REFERENCES `products` (`productCode`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `orderdetails` */

insert  into `orderdetails`(`orderNumber`,`productCode`,`quantityOrdered`,`priceEach`,`orderLineNumber`) values 

(10100,'S10_1001',30,'136.00',3),

(10100,'S12_1002',50,'55.09',2),

(10100,'S18_1003',22,'75.46',4),

(10100,'S24_1004',49,'35.29',1),

(10101,'S10_1001',25,'108.06',4),

(10101,'S18_1003',26,'167.06',1),

(10101,'S24_1004',45,'32.53',3),

(10102,'S12_1002',39,'95.55',2),

(10102,'S18_1003',41,'43.13',1),

(10103,'S10_1001',26,'214.30',11),

(10103,'S12_1002',42,'119.67',4),

(10103,'S24_1004',27,'121.64',8),

(10104,'S10_1001',35,'187.85',1),

(10104,'S18_1003',33,'34.17',2),

(10105,'S12_1002',44,'81.35',1),

(10105,'S24_1004',48,'72.62',2),

(10106,'S10_1001',41,'94.74',1),

(10107,'S18_1003',36,'66.28',2),

(10107,'S24_1004',22,'62.00',1),

(10108,'S12_1002',50,'51.93',1),

(10109,'S10_1001',20,'137.68',1),

(10109,'S18_1003',34,'44.64',2),

(10110,'S24_1004',31,'38.19',1),

(10111,'S10_1001',46,'181.09',1),

(10111,'S12_1002',39,'99.41',2),

(10111,'S18_1003',29,'40.00',3);

/*Table structure for table `orders` */

DROP TABLE IF EXISTS `orders`;

CREATE TABLE `orders` (
  `orderNumber` int(11) NOT NULL,
  `orderDate` date NOT NULL,
  `requiredDate` date NOT NULL,
  `shippedDate` date DEFAULT NULL,
  `status` varchar(15) NOT NULL,
  `comments` text,
  `customerNumber` int(11) NOT NULL,
  PRIMARY KEY (`orderNumber`),
  KEY `customerNumber` (`customerNumber`),
  CONSTRAINT `orders_ibfk_1` FOREIGN KEY (`customerNumber`) REFERENCES `customers` (`customerNumber`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `orders` */

insert  into `orders`(`orderNumber`,`orderDate`,`requiredDate`,`shippedDate`,`status`,`comments`,`customerNumber`) values 

(10100,'2003-01-06','2003-01-13','2003-01-10','Shipped',NULL,101),

(10101,'2003-01-09','2003-01-18','2003-01-11','Shipped','Check on availability.',102),

(10102,'2003-01-10','2003-01-18','2003-01-14','Shipped',NULL,103),

(10103,'2003-01-29','2003-02-07','2003-02-02','Shipped','Customer says: \"ship ASAP; we\'re out\"',104),

(10104,'2003-01-31','2003-02-09','2003-02-01','Resolved','Disputed then resolved.\nCredit issued.',105),

(10105,'2003-02-11','2003-02-21','2003-02-12','Disputed','Invoice at C:\\invoices\\10105.pdf',106),

(10106,'2003-02-17','2003-02-24',NULL,'Cancelled','Customer cancelled;\tlate delivery',107),

(10107,'2003-02-24','2003-03-03',NULL,'On Hold','Credit limit exceeded. Will ship when a payment is received',108),

(10108,'2003-03-03','2003-03-12',NULL,'In Process',NULL,109),

(10109,'2003-03-10','2003-03-19','2003-03-11','Shipped','It''s fine',111),

(10110,'2003-03-18','2003-03-24','2003-03-20','Shipped','-- not a comment; /* nor this */ # nor this',112),

(10111,'2003-03-25','2003-03-30','2003-03-30','Shipped',NULL,101);

/*Table structure for table `payments` */

DROP TABLE IF EXISTS `payments`;

CREATE TABLE `payments` (
  `customerNumber` int(11) NOT NULL,
  `checkNumber` varchar(50) NOT NULL,
  `paymentDate` date NOT NULL,
  `amount` decimal(10,2) NOT NULL,
  PRIMARY KEY (`customerNumber`,`checkNumber`),
  CONSTRAINT `payments_ibfk_1` FOREIGN KEY (`customerNumber`) REFERENCES `customers` (`customerNumber`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `payments` */

insert  into `payments`(`customerNumber`,`checkNumber`,`paymentDate`,`amount`) values 

(101,'HQ336336','2004-10-19','6066.78'),

(101,'JM555205','2003-06-05','14571.44'),

(102,'OM314933','2004-12-18','1676.14'),

(104,'GG31455','2003-05-20','45864.03'),

(106,'NR27552','2004-03-10','44894.74'),

(109,'DB933704','2004-11-14','19501.82'),

(112,'KI131716','2003-08-15','11044.30');

/*Table structure for table `productlines` */

DROP TABLE IF EXISTS `productlines`;

CREATE TABLE `productlines` (
  `productLine` varchar(50) NOT NULL,
  `textDescription` varchar(4000) DEFAULT NULL,
  `htmlDescription` mediumtext,
  `image` mediumblob,
  PRIMARY KEY (`productLine`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `productlines` */

insert  into `productlines`(`productLine`,`textDescription`,`htmlDescription`,`image`) values 

('Classic Cars','Attention car enthusiasts: make your wildest ownership dreams come true; whether you want \"muscle\" or elegance.',NULL,NULL),

('Motorcycles','Our motorcycles are state of the art replicas of classic bikes; chrome, rubber & steel.',NULL,NULL);

/*Table structure for table `products` */

DROP TABLE IF EXISTS `products`;

CREATE TABLE `products` (
  `productCode` varchar(15) NOT NULL,
  `productName` varchar(70) NOT NULL,
  `productLine` varchar(50) NOT NULL,
  `productScale` varchar(10) NOT NULL,
  `productVendor` varchar(50) NOT NULL,
  `productDescription` text NOT NULL,
  `quantityInStock` smallint(6) NOT NULL,
  `buyPrice` decimal(10,2) NOT NULL,
  `MSRP` decimal(10,2) NOT NULL,
  PRIMARY KEY (`productCode`),
  KEY `productLine` (`productLine`),
  CONSTRAINT `products_ibfk_1` FOREIGN KEY (`productLine`) REFERENCES `productlines` (`productLine`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

/*Data for the table `products` */

insert  into `products`(`productCode`,`productName`,`productLine`,`productScale`,`productVendor`,`productDescription`,`quantityInStock`,`buyPrice`,`MSRP`) values 

('S10_1001','1952 Alpine Roadster','Classic Cars','1:10','Crown Diecast','Opening doors; working steering.',7305,'98.58','214.30'),

('S12_1002','1969 Harbor Chopper','Motorcycles','1:12','Harbor Hobby','Chrome \"kickstand\" & rubber tyres',5582,'48.81','95.70'),

('S18_1003','1937 Tourer','Classic Cars','1:18','Minimax Models','It\'s a tourer.\nTwo lines.',3252,'21.75','41.03'),

('S24_1004','1982 Racer','Motorcycles','1:24','Orbit Scale Models','Stored at C:\\models\\racer',0,'34.35','62.00');

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;
